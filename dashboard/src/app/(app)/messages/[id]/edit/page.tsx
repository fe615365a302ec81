import type { Metadata } from "next";
import Link from "next/link";
import { ActionForm } from "@/components/ActionForm";
import { requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { editable, messageToEdit } from "@/lib/data/messages";
import { formatInZone, localInputValue, patientTimeNote } from "@/lib/time";
import { editMessageAction } from "./actions";

export const metadata: Metadata = { title: "Edit message" };

/**
 * Change the text and the time of a message the clinic wrote, until it goes: a pending one, or
 * one a worker has claimed ahead of its time (before a busy minute) until a second before it.
 */
export default async function EditMessagePage({ params }: { params: Promise<{ id: string }> }) {
  const clinician = await requireClinician();
  const { id } = await params;
  const message = isUuid(id) ? await asClinician(clinician.id, (tx) => messageToEdit(tx, id)) : null;
  const tz = clinician.timezone;
  const patientNote = message === null ? null : patientTimeNote(message.scheduled_time, tz, message.patient_timezone);
  if (message === null || !editable(message, new Date())) {
    return (
      <>
        <h1>Edit message</h1>
        <p role="alert" className="alert" data-testid="edit-unavailable">
          {message === null
            ? "That message was not found among your clinic's messages."
            : message.status === "pending" || message.status === "processing"
              ? "Only a message your clinic wrote as free text can be changed here; a reminder follows its medicine's schedule or its appointment, a template's message its template. Cancel it and compose another if needed."
              : `That message is ${message.status}: it can no longer be changed.`}
        </p>
        <p><Link href="/messages">Back to the messages</Link></p>
      </>
    );
  }
  return (
    <>
      <h1>Edit message</h1>
      <p className="muted" data-testid="edit-for">
        To <bdi>{message.patient_name ?? "Unnamed patient"}</bdi>, now due {formatInZone(message.scheduled_time, tz)}
        {/* Their own clock when it differs: the clinic types its time, the patient lives by theirs. */}
        {patientNote ? ` (${patientNote})` : ""}.
        {message.status === "processing"
          ? " A worker is holding it for its time: it can still be changed until a second before then."
          : null}
      </p>
      <ActionForm action={editMessageAction} errorId="edit-error" className="panel" data-testid="edit-form">
        <input type="hidden" name="id" value={message.id} />
        <div className="field">
          <label htmlFor="message_content">Message</label>
          <textarea id="message_content" name="message_content" rows={5} defaultValue={message.message_content ?? ""} required />
          <p className="hint">{"{{ patient_name }} and {{ clinic_name }} are filled in, as in Compose."}</p>
        </div>
        <div className="field">
          <label htmlFor="local_time">Date and time ({tz})</label>
          <input id="local_time" name="local_time" type="datetime-local" defaultValue={localInputValue(message.scheduled_time, tz)} required />
        </div>
        <div className="row">
          <button type="submit">Save changes</button>
          <Link href="/messages">Back without changing</Link>
        </div>
      </ActionForm>
    </>
  );
}
