/**
 * What a server action that refuses a form sends back to it: the error code (./errors.ts), the
 * field it is about (marked `aria-invalid` and described by the message) and the values as the
 * clinician typed them, which the form shows again. Redirecting to `?error=` lost those values:
 * React renders the page afresh, so everything typed had to be typed again.
 */
export interface FormState {
  error?: string;
  field?: string;
  values?: Record<string, string>;
  /** The id of the record the refusal names (an appointment already at that time). */
  existing?: string;
  /** The MedRemind service's own words, for a refusal the dashboard has no message of its own for. */
  reason?: string;
  /** The reach rule's refusal window (minutes), for a refusal of a message no channel reaches. */
  refusalMinutes?: number;
}

/**
 * The error of a form sent after the session ended (12 hours, or a sign-out in another tab):
 * nothing was saved, and the values come back as typed, where a redirect to the sign-in page lost
 * them. The page asks for the password itself (components/SessionGuard.tsx, lib/session-signal.ts).
 */
export const SESSION_ENDED = "session_ended";

/** The answer to a form sent without a session: `values` as typed (see SESSION_ENDED). */
export function sessionEnded(values?: Record<string, string>): FormState {
  return values ? { error: SESSION_ENDED, values } : { error: SESSION_ENDED };
}

// Longer than any field of the dashboard's forms: what comes back is never more than was sent
// (a forged form may send up to the server action's 1 MB body limit).
const VALUE_KEEP = 4096;

/** The named fields of `formData` as strings (a file or a missing field: empty), capped. */
export function formValues<K extends string>(formData: FormData, names: readonly K[]): Record<K, string> {
  const values = {} as Record<K, string>;
  for (const name of names) {
    const value = formData.get(name);
    values[name] = typeof value === "string" ? value.slice(0, VALUE_KEEP) : "";
  }
  return values;
}

/**
 * A textarea's text as the clinician typed it: a browser submits its line breaks as CRLF (the
 * textarea wrapping transformation), while the editor's state, previews and counts hold LF. Kept
 * as CRLF, a template's answer (checked or refused) was for another text than the one on screen
 * and was never shown, and a composed message was stored longer than its preview counted.
 */
export function typedText(value: FormDataEntryValue | null): string {
  return typeof value === "string" ? value.replace(/\r\n?/g, "\n") : "";
}

/** The props that mark `name` invalid and point at the form's error (id `errorId`), if it is the one. */
export function fieldProblem(
  state: FormState,
  name: string,
  errorId: string,
): { "aria-invalid"?: true; "aria-describedby"?: string } {
  return state.error && state.field === name ? { "aria-invalid": true, "aria-describedby": errorId } : {};
}
