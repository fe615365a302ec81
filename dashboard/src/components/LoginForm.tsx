"use client";

import { useActionState, useEffect, useRef } from "react";
import type { SignInState } from "@/app/login/actions";
import { SIGN_IN_REFUSED } from "@/lib/sign-in-messages";

interface Props {
  action: (previous: SignInState, formData: FormData) => Promise<SignInState>;
  /** Where to go once signed in (checked again by the action). */
  next: string;
}

/**
 * The sign-in form. After a refusal it keeps the e-mail (React resets a form after its action,
 * so the field's default value is what the server sent back), empties the password and puts the
 * cursor there, and names the problem in an alert the fields are described by.
 */
export function LoginForm({ action, next }: Props) {
  const [state, formAction, pending] = useActionState(action, {});
  const password = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (state.error) password.current?.focus();
  }, [state]);
  // A busy database is no fault of the e-mail or password: the fields are not marked.
  const invalid = state.error && state.error !== "busy" ? true : undefined;
  return (
    <>
      {state.error ? (
        <p role="alert" className="alert" id="login-error" data-testid="login-error">
          {SIGN_IN_REFUSED[state.error]}
        </p>
      ) : null}
      <form action={formAction}>
        <input type="hidden" name="next" value={next} />
        <div className="field">
          <label htmlFor="email">E-mail</label>
          <input
            id="email"
            name="email"
            type="email"
            autoComplete="username"
            required
            maxLength={320}
            defaultValue={state.email ?? ""}
            key={`email-${state.email ?? ""}`}
            aria-invalid={invalid}
            aria-describedby={state.error ? "login-error" : undefined}
          />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            ref={password}
            id="password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            maxLength={1024}
            aria-invalid={invalid}
            aria-describedby={state.error ? "login-error" : undefined}
          />
        </div>
        <button type="submit" disabled={pending}>
          {pending ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </>
  );
}
