"use client";

import { useActionState } from "react";
import { useSessionEndedAnswer } from "@/lib/session-signal";
import type { InviteState } from "@/app/(app)/patients/invite-action";

interface Props {
  action: (previous: InviteState, formData: FormData) => Promise<InviteState>;
  patientId: string;
}

/** Make an invite link and QR code for the patient's phone; shown once, here only. */
export function InvitePanel({ action, patientId }: Props) {
  const [state, formAction, pending] = useActionState(action, {});
  useSessionEndedAnswer(state.code);
  return (
    <div>
      <form action={formAction}>
        <input type="hidden" name="patient_id" value={patientId} />
        <button type="submit" className="secondary" disabled={pending}>
          {state.token ? "Make another invite" : "Make an invite link"}
        </button>
      </form>
      <div aria-live="polite">
        {state.error ? <p className="error">{state.error}</p> : null}
        {state.token ? (
          <div data-testid="invite">
            {state.link ? (
              <>
                <p>
                  Link: <a href={state.link} data-testid="invite-link">{state.link}</a>
                </p>
                {state.qrSvg ? (
                  <div
                    role="img"
                    aria-label="QR code of the invite link"
                    style={{ width: 200, height: 200 }}
                    dangerouslySetInnerHTML={{ __html: state.qrSvg }}
                  />
                ) : null}
              </>
            ) : (
              <p>
                Ask the patient to send <code data-testid="invite-command">/start {state.token}</code> to the bot.
              </p>
            )}
            <p className="muted" data-testid="invite-expires">Works once, until {state.expires}. It is not shown again.</p>
          </div>
        ) : null}
      </div>
    </div>
  );
}
