import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { LoginForm } from "@/components/LoginForm";
import { currentClinician } from "@/lib/auth";
import { signIn } from "./actions";

export const metadata: Metadata = { title: "Sign in" };

export default async function LoginPage() {
  // Already signed in (a bookmark, the back button): straight to the dashboard.
  if (await currentClinician()) redirect("/patients");
  return (
    <main id="content" style={{ maxWidth: 420, marginTop: "10vh" }}>
      <div className="panel">
        <h1>MedRemind sign-in</h1>
        <LoginForm action={signIn} />
      </div>
    </main>
  );
}
