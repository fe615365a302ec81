import "server-only";
import type { Tx } from "../db";

/** scheduled_messages and their delivery attempts, as the clinician may see them. */

export const MESSAGE_STATUSES = [
  "pending",
  "processing",
  "sent",
  "delivered",
  "failed",
  "cancelled",
  "expired",
] as const;
export const PLATFORMS = ["auto", "telegram", "whatsapp", "sms", "email"] as const;

export interface AttemptRow {
  id: string;
  attempt_time: string;
  status: string;
  channel: string | null;
  error_class: string | null;
  error_message: string | null;
  duration_ms: number | null;
}

export interface MessageRow {
  id: string;
  patient_id: string;
  patient_name: string | null;
  kind: string;
  message_content: string | null;
  scheduled_time: Date;
  status: string;
  platform: string;
  channel_used: string | null;
  attempts: number;
  last_error: string | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  attempt_list: AttemptRow[];
}

const ATTEMPTS_JSON = `
  coalesce((select json_agg(json_build_object(
      'id', a.id, 'attempt_time', a.attempt_time, 'status', a.status, 'channel', a.channel,
      'error_class', a.error_class, 'error_message', a.error_message, 'duration_ms', a.duration_ms)
    order by a.attempt_time)
    from message_delivery_attempts a where a.message_id = m.id), '[]'::json)`;

const MESSAGE_COLUMNS = `
  m.id, m.patient_id, p.display_name as patient_name, m.kind, m.message_content, m.scheduled_time,
  m.status, m.platform, m.channel_used, m.attempts, m.last_error, m.sent_at, m.delivered_at,
  ${ATTEMPTS_JSON} as attempt_list`;

/** Messages of the organization, optionally of one status: pending first by time, then recent. */
export async function listMessages(tx: Tx, status: string | null): Promise<MessageRow[]> {
  return tx.unsafe<MessageRow[]>(
    `select ${MESSAGE_COLUMNS}
       from scheduled_messages m join patients p on p.id = m.patient_id
      where ($1::text is null or m.status = $1)
      order by (m.status in ('pending', 'processing')) desc,
               case when m.status in ('pending', 'processing') then m.scheduled_time end asc,
               m.scheduled_time desc
      limit 200`,
    [status],
  );
}

/** The patient's messages with every attempt, newest first. */
export async function patientMessages(tx: Tx, patientId: string): Promise<MessageRow[]> {
  return tx.unsafe<MessageRow[]>(
    `select ${MESSAGE_COLUMNS}
       from scheduled_messages m join patients p on p.id = m.patient_id
      where m.patient_id = $1
      order by m.scheduled_time desc limit 100`,
    [patientId],
  );
}

export interface NewMessage {
  patientId: string;
  platform: string;
  content: string;
  /** Wall-clock `YYYY-MM-DDTHH:MM` in `timezone`, or null for now. */
  localTime: string | null;
  timezone: string;
  /** Urgent messages are not deferred by quiet hours. */
  urgent: boolean;
  createdBy: string;
}

/** Insert a pending free-text message (the worker sends it when due); returns its id. */
export async function scheduleMessage(tx: Tx, input: NewMessage): Promise<string> {
  const [row] = await tx<{ id: string }[]>`
    insert into scheduled_messages (patient_id, message_content, scheduled_time, platform, kind,
                                    urgent, created_by, payload)
    values (${input.patientId}, ${input.content},
            case when ${input.localTime}::text is null then now()
                 else (${input.localTime}::timestamp at time zone ${input.timezone}) end,
            ${input.platform}, 'free_text', ${input.urgent}, ${input.createdBy}, ${tx.json({ source: "dashboard" })})
    returning id`;
  if (!row) throw new Error("message insert returned no row");
  return row.id;
}

/** Cancel a pending message; false when it is no longer pending (or not visible). */
export async function cancelMessage(tx: Tx, id: string): Promise<boolean> {
  const rows = await tx`
    update scheduled_messages set status = 'cancelled', last_error = null
     where id = ${id} and status = 'pending' returning id`;
  return rows.length === 1;
}

/** Make a pending message due now; false when it is no longer pending (or not visible). */
export async function sendNow(tx: Tx, id: string): Promise<boolean> {
  const rows = await tx`
    update scheduled_messages set scheduled_time = now()
     where id = ${id} and status = 'pending' returning id`;
  return rows.length === 1;
}
