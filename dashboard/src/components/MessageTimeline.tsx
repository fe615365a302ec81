import type { MessageRow } from "@/lib/data/messages";
import { OUTBOX_HINT, OUTBOX_LABEL, canResend, kindLabel, lastErrorTone, resendClosedText } from "@/lib/delivery";
import { formatInZone } from "@/lib/time";
import { StatusBadge } from "./StatusBadge";

/**
 * Messages with every delivery attempt, newest first. An outbox delivery is marked as not
 * received; a failed message offers "Re-send" when `resend` (a server action) is given.
 */
export function MessageTimeline({
  messages,
  timezone,
  resend,
}: {
  messages: MessageRow[];
  timezone: string;
  resend?: (formData: FormData) => Promise<void>;
}) {
  if (messages.length === 0) return <p className="muted">No messages yet.</p>;
  return (
    <ol className="timeline" aria-live="polite">
      {messages.map((m) => (
        <li key={m.id} data-testid="message" data-message-id={m.id}>
          <div>
            <StatusBadge status={m.status} testId="message-status" />{" "}
            <strong>{formatInZone(m.scheduled_time, timezone)}</strong>{" "}
            <span className="muted">
              {kindLabel(m.kind, m.medicine)} · {m.channel_used ?? m.platform}
              {m.caregiver_name ? <span data-testid="message-caregiver">{` · to ${m.caregiver_name}`}</span> : null}
            </span>
            {m.via_outbox ? (
              <>
                {" "}
                <span className="badge warn" data-testid="outbox" title={OUTBOX_HINT}>{OUTBOX_LABEL}</span>
              </>
            ) : null}
          </div>
          {m.resent_from ? (
            <p className="muted" data-testid="resend-of">Re-send of a failed message.</p>
          ) : null}
          {m.resent_as ? (
            <p className="muted" data-testid="resent">Re-sent as a new message (above).</p>
          ) : null}
          {m.template ? (
            <p data-testid="message-template">
              From template <strong>{m.template}</strong>
              {m.message_content ? null : (
                <span className="muted"> · rendered in the patient&apos;s language when sent</span>
              )}
            </p>
          ) : null}
          {m.message_content ? <p className="message-text">{m.message_content}</p> : null}
          {m.last_error && m.status !== "sent" && m.status !== "delivered" ? (
            <p className={lastErrorTone(m.status, m.last_error) === "note" ? "muted" : "error"}>{m.last_error}</p>
          ) : null}
          {m.attempt_list.length > 0 ? (
            <ul className="attempts" aria-label="Delivery attempts">
              {m.attempt_list.map((a) => (
                <li key={a.id} data-testid="attempt" data-attempt-status={a.status}>
                  Attempt {formatInZone(a.attempt_time, timezone)} · {a.channel ?? "?"} · {a.status}
                  {a.via_outbox ? ` · ${OUTBOX_LABEL}` : ""}
                  {a.duration_ms !== null ? ` · ${a.duration_ms} ms` : ""}
                  {a.error_message ? ` · ${a.error_class ?? "error"}: ${a.error_message}` : ""}
                </li>
              ))}
            </ul>
          ) : null}
          {resend && canResend(m) ? (
            <form action={resend}>
              <input type="hidden" name="id" value={m.id} />
              <input type="hidden" name="patient" value={m.patient_id} />
              <button type="submit" className="secondary" aria-label="Re-send this failed message">Re-send</button>
            </form>
          ) : null}
          {resend && resendClosedText(m) ? <p className="hint" data-testid="resend-closed">{resendClosedText(m)}</p> : null}
        </li>
      ))}
    </ol>
  );
}
