import type { Metadata } from "next";
import Link from "next/link";
import { AutoRefresh } from "@/components/AutoRefresh";
import { StatusBadge } from "@/components/StatusBadge";
import { requireClinician } from "@/lib/auth";
import { asClinician } from "@/lib/db";
import { MESSAGE_STATUSES, type MessageRow, editable, listMessages } from "@/lib/data/messages";
import { OUTBOX_HINT, OUTBOX_LABEL, canResend, cancelledNotice, kindLabel, lastErrorTone, resendClosedText, resentNotice } from "@/lib/delivery";
import { editedNotice, errorMessage } from "@/lib/errors";
import { formatInZone } from "@/lib/time";
import { urgentNightNotice } from "@/lib/compose";
import { earlyByText, quietHoursMayHold, sendNowVerdict } from "@/lib/send-now";
import { SendNow } from "@/components/SendNow";
import { cancelMessageAction, resendMessageAction, sendNowAction } from "./actions";

export const metadata: Metadata = { title: "Scheduled messages" };

export default async function MessagesPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const clinician = await requireClinician();
  const params = await searchParams;
  const night = typeof params.night === "string" && /^\d{1,9}$/.test(params.night) ? Number(params.night) : 0;
  const status =
    typeof params.status === "string" && (MESSAGE_STATUSES as readonly string[]).includes(params.status)
      ? params.status
      : null;
  const { messages, total } = await asClinician(clinician.id, (tx) => listMessages(tx, status));
  const error = errorMessage(params.error);
  const now = new Date();
  return (
    <>
      <AutoRefresh intervalMs={3000} />
      <div className="row" style={{ justifyContent: "space-between", marginBottom: "1rem" }}>
        <h1 style={{ margin: 0 }}>Scheduled messages</h1>
        <Link className="button" href="/messages/new">Compose</Link>
      </div>
      {error ? <p role="alert" className="alert">{error}</p> : null}
      {resentNotice(params.resent) ? (
        <p role="status" className="notice" data-testid="resent-notice">
          {resentNotice(params.resent)}
        </p>
      ) : null}
      {editedNotice(params.edited) ? (
        <p role="status" className="notice" data-testid="edited-notice">
          {editedNotice(params.edited)}
        </p>
      ) : null}
      {cancelledNotice(params.cancelled) ? (
        <p role="status" className="notice" data-testid="cancelled-notice">
          {cancelledNotice(params.cancelled)}
        </p>
      ) : null}
      {typeof params.scheduled === "string" ? (
        <p role="status" className="notice" data-testid="group-scheduled">
          Scheduled for {Number(params.scheduled)} patient{Number(params.scheduled) === 1 ? "" : "s"}.
          {/* An urgent group message: how many get it inside their quiet hours (the count said so). */}
          {night > 0 ? ` ${urgentNightNotice(night)}` : ""}
        </p>
      ) : null}
      <form className="panel row" action="/messages">
        <div className="field" style={{ marginBottom: 0 }}>
          <label htmlFor="status">Status</label>
          <select id="status" name="status" defaultValue={status ?? ""}>
            <option value="">All statuses</option>
            {MESSAGE_STATUSES.map((s) => (
              <option key={s} value={s}>{s}</option>
            ))}
          </select>
        </div>
        <button type="submit">Filter</button>
      </form>
      <div className="panel table-wrap">
        <table aria-live="polite">
          <caption>
            {total > messages.length ? `${messages.length} of ${total}` : messages.length} message{total === 1 ? "" : "s"}
            {status ? ` with status ${status}` : ""} · times in {clinician.timezone}
            {total > messages.length ? (
              <span className="muted" data-testid="list-limit">
                {" "}
                ·{" "}
                {status === null
                  ? "pending first by time, then the most recent; choose a status to see the others"
                  : status === "pending" || status === "processing"
                    ? `the first ${messages.length} by time`
                    : `the ${messages.length} most recent`}
              </span>
            ) : null}
          </caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Patient</th>
              <th scope="col">Message</th>
              <th scope="col">Channel</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col"><span className="muted">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {messages.map((m) => {
              const last = m.attempt_list[m.attempt_list.length - 1];
              return (
                <tr key={m.id} data-testid="message-row" data-message-id={m.id}>
                  <td>{formatInZone(m.scheduled_time, clinician.timezone)}</td>
                  <td><Link href={`/patients/${m.patient_id}`}>{m.patient_name ?? "Unnamed patient"}</Link></td>
                  <td style={{ maxWidth: 320 }}>
                    {m.template ? (
                      <span data-testid="message-template">
                        Template <strong>{m.template}</strong>
                      </span>
                    ) : null}
                    {m.message_content || !m.template ? (
                      <span className="message-text" data-testid="message-kind">{m.message_content ?? kindLabel(m.kind, m.medicine)}</span>
                    ) : null}
                  </td>
                  <td>
                    {m.channel_used ?? m.platform}
                    {m.via_outbox ? (
                      <div><span className="badge warn" data-testid="outbox" title={OUTBOX_HINT}>{OUTBOX_LABEL}</span></div>
                    ) : null}
                  </td>
                  <td>
                    <StatusBadge status={m.status} testId="message-status" />
                    {m.resent_from ? <div className="muted" style={{ fontSize: "0.85rem" }} data-testid="resend-of">re-send</div> : null}
                    {m.resent_as ? <div className="muted" style={{ fontSize: "0.85rem" }} data-testid="resent">re-sent</div> : null}
                  </td>
                  <td>
                    {m.attempts}
                    {last ? <div className="muted" style={{ fontSize: "0.85rem" }}>last: {last.status}{last.error_message ? ` (${last.error_message})` : ""}</div> : null}
                    {m.last_error && !last ? (
                      <div className={lastErrorTone(m.status, m.last_error) === "note" ? "muted" : "error"} style={{ fontSize: "0.85rem" }} data-testid="last-error">
                        {m.last_error}
                      </div>
                    ) : null}
                  </td>
                  <td>
                    {m.status === "pending" ? (
                      <div className="actions">
                        <SendNowCell message={m} now={now} filter={status ?? ""} timezone={clinician.timezone} />
                        <EditLink message={m} now={now} />
                        <CancelForm message={m} filter={status ?? ""} />
                      </div>
                    ) : null}
                    {m.status === "processing" && m.scheduled_time.getTime() > now.getTime() ? (
                      // Claimed ahead of a peak by a worker: still cancellable and editable
                      // until a second before its time (public.cancel_scheduled_message,
                      // public.edit_scheduled_message).
                      <div className="actions">
                        <EditLink message={m} now={now} />
                        <CancelForm message={m} filter={status ?? ""} />
                      </div>
                    ) : null}
                    {canResend(m) ? (
                      <form action={resendMessageAction}>
                        <input type="hidden" name="id" value={m.id} />
                        <input type="hidden" name="filter" value={status ?? ""} />
                        <button type="submit" className="secondary" style={{ whiteSpace: "nowrap" }} aria-label={`Re-send: failed message to ${m.patient_name ?? "patient"}`}>Re-send</button>
                      </form>
                    ) : null}
                    {resendClosedText(m) ? <p className="hint" style={{ margin: 0 }} data-testid="resend-closed">{resendClosedText(m)}</p> : null}
                  </td>
                </tr>
              );
            })}
            {messages.length === 0 ? (
              <tr><td colSpan={7} className="muted">No messages.</td></tr>
            ) : null}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** Change the text or time of a message the clinic wrote, not sent yet (./[id]/edit). */
function EditLink({ message: m, now }: { message: MessageRow; now: Date }) {
  if (!editable(m, now)) return null;
  return (
    <Link className="button secondary" href={`/messages/${m.id}/edit`} aria-label={`Edit message to ${m.patient_name ?? "patient"}`}>
      Edit
    </Link>
  );
}

/** Cancel a message not sent yet (lib/data/messages.ts cancelMessage). */
function CancelForm({ message: m, filter }: { message: MessageRow; filter: string }) {
  return (
    <form action={cancelMessageAction}>
      <input type="hidden" name="id" value={m.id} />
      <input type="hidden" name="filter" value={filter} />
      <button type="submit" className="danger" aria-label={`Cancel message to ${m.patient_name ?? "patient"}`}>Cancel</button>
    </form>
  );
}

/**
 * Send now for a pending message due later: asked first (components/SendNow.tsx); a medication
 * reminder before its dose's time offers a message to the patient instead (lib/send-now.ts).
 */
function SendNowCell({ message: m, now, filter, timezone }: { message: MessageRow; now: Date; filter: string; timezone: string }) {
  const verdict = sendNowVerdict(m, now);
  if (verdict.verdict === "due") return null;
  if (verdict.verdict === "dose_not_due") {
    return (
      <p className="hint" style={{ margin: 0 }} data-testid="dose-not-due">
        Goes at its dose&apos;s time ({formatInZone(verdict.due, timezone)}): sent early, the patient would take the dose early.{" "}
        <Link href={`/messages/new?patient=${m.patient_id}`}>Write to <bdi>{m.patient_name ?? "the patient"}</bdi> instead</Link>
      </p>
    );
  }
  return (
    <SendNow
      action={sendNowAction}
      id={m.id}
      filter={filter}
      patientName={m.patient_name ?? "patient"}
      scheduledMs={m.scheduled_time.getTime()}
      when={formatInZone(m.scheduled_time, timezone)}
      earlyBy={earlyByText(verdict.earlyMs)}
      quietHoursHold={quietHoursMayHold(m)}
    />
  );
}
