import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { LoginForm } from "@/components/LoginForm";
import { currentClinician } from "@/lib/auth";
import { returnPath } from "@/lib/return-path";
import { signIn } from "./actions";

export const metadata: Metadata = { title: "Sign in" };

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const next = returnPath((await searchParams).next);
  // Already signed in (a bookmark, the back button): straight to the page asked for.
  if (await currentClinician()) redirect(next);
  return (
    <main id="content" style={{ maxWidth: 420, marginTop: "10vh" }}>
      <div className="panel">
        <h1>MedRemind sign-in</h1>
        <LoginForm action={signIn} next={next} />
      </div>
    </main>
  );
}
