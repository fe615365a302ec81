"use client";

import { startTransition, useActionState, useEffect, useRef } from "react";
import { useSessionEndedAnswer } from "@/lib/session-signal";
import { errorMessage } from "@/lib/errors";
import type { FormState } from "@/lib/form-state";

interface Props {
  action: (previous: FormState, formData: FormData) => Promise<FormState>;
  /** The id of the refusal's message, which the field it names is described by. */
  errorId: string;
  className?: string;
  "data-testid"?: string;
  children: React.ReactNode;
}

/**
 * A form whose fields are rendered on the server, submitted to an action that answers a refusal
 * with a FormState (lib/form-state.ts): the message is shown at the top of the form and the field
 * it names is marked invalid and described by it. Submitted by hand, not through React's form
 * action, which resets the form afterwards: the fields keep what the clinician chose.
 */
export function ActionForm({ action, errorId, className, children, ...rest }: Props) {
  const [state, formAction, pending] = useActionState(action, {});
  useSessionEndedAnswer(state.error);
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    for (const element of Array.from(form.current?.elements ?? [])) {
      if (!(element instanceof HTMLElement)) continue;
      const named = element.getAttribute("name") === state.field;
      const described = (element.getAttribute("aria-describedby") ?? "").split(" ").filter((id) => id && id !== errorId);
      if (named && state.error) {
        element.setAttribute("aria-invalid", "true");
        element.setAttribute("aria-describedby", [...described, errorId].join(" "));
      } else if (element.getAttribute("aria-describedby")?.split(" ").includes(errorId)) {
        element.removeAttribute("aria-invalid");
        if (described.length) element.setAttribute("aria-describedby", described.join(" "));
        else element.removeAttribute("aria-describedby");
      }
    }
  }, [state, errorId]);
  const error = errorMessage(state.error, state.refusalMinutes);
  return (
    <form
      ref={form}
      action={formAction}
      onSubmit={(event) => {
        event.preventDefault();
        const data = new FormData(event.currentTarget);
        startTransition(() => formAction(data));
      }}
      className={className}
      aria-busy={pending || undefined}
      data-testid={rest["data-testid"]}
    >
      {error ? (
        <p role="alert" className="alert" id={errorId} data-testid={errorId}>
          {error}
        </p>
      ) : null}
      {children}
    </form>
  );
}
