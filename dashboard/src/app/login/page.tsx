import type { Metadata } from "next";
import { signIn } from "./actions";

export const metadata: Metadata = { title: "Sign in" };

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { error } = await searchParams;
  return (
    <main id="content" style={{ maxWidth: 420, marginTop: "10vh" }}>
      <div className="panel">
        <h1>MedRemind sign-in</h1>
        {error ? (
          <p role="alert" className="alert">
            {error === "throttled"
              ? "Too many attempts. Please wait a few minutes and try again."
              : "E-mail or password is not correct."}
          </p>
        ) : null}
        <form action={signIn}>
          <div className="field">
            <label htmlFor="email">E-mail</label>
            <input id="email" name="email" type="email" autoComplete="username" required />
          </div>
          <div className="field">
            <label htmlFor="password">Password</label>
            <input id="password" name="password" type="password" autoComplete="current-password" required />
          </div>
          <button type="submit">Sign in</button>
        </form>
      </div>
    </main>
  );
}
