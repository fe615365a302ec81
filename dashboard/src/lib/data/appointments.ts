import "server-only";
import type { Tx } from "../db";

/**
 * Appointments of the organization: rows only. Confirmations and reminders are planned by
 * `scheduler.appointments`, which the Python API calls and the planner's tick runs for rows the
 * dashboard wrote; the dashboard does not plan them.
 */

export interface AppointmentRow {
  id: string;
  patient_id: string;
  patient_name: string | null;
  /** The patient's IANA zone: shown beside the clinic's time where the two differ. */
  patient_timezone: string | null;
  starts_at: Date;
  duration_minutes: number;
  location: string | null;
  clinician_name: string | null;
  status: string;
}

/** Appointments from a week ago on (or one patient's), in time order. */
export async function listAppointments(tx: Tx, patientId: string | null): Promise<AppointmentRow[]> {
  return tx.unsafe<AppointmentRow[]>(
    `select a.id, a.patient_id, p.display_name as patient_name, p.timezone as patient_timezone, a.starts_at, a.duration_minutes,
            a.location, a.clinician_name, a.status
       from appointments a join patients p on p.id = a.patient_id
      where ($1::uuid is null and a.starts_at >= now() - interval '7 days')
         or a.patient_id = $1::uuid
      order by a.starts_at limit 300`,
    [patientId],
  );
}

/** One appointment of the organization (row-level security hides another clinic's), or null. */
export async function getAppointment(tx: Tx, id: string): Promise<AppointmentRow | null> {
  const [row] = await tx<AppointmentRow[]>`
    select a.id, a.patient_id, p.display_name as patient_name, p.timezone as patient_timezone, a.starts_at, a.duration_minutes,
           a.location, a.clinician_name, a.status
      from appointments a join patients p on p.id = a.patient_id
     where a.id = ${id}`;
  return row ?? null;
}

export interface NewAppointment {
  patientId: string;
  localTime: string;
  timezone: string;
  durationMinutes: number;
  location: string | null;
  clinicianName: string | null;
  createdBy: string;
}

/** The patient is not one the clinician's clinic has (or was erased). */
export class PatientNotFound extends Error {}

/** The patient has not consented yet (invited): nothing but a service notice goes to them. */
export class PatientNotConsented extends Error {}

/** The patient already has a live appointment at that time: `existing` is its id. */
export class SameTimeAppointment extends Error {
  constructor(readonly existing: string) {
    super("the patient already has an appointment at that time");
  }
}

/**
 * The patient's live appointment (scheduled, confirmed, reschedule requested) starting at the
 * wall time `localTime` in `timezone`, other than `moving` (the one a move takes there), or null.
 * The API's rule (core/sql/web.sql same_time_appointment, docs/api.md "An appointment booked
 * again"): nobody attends two visits of one clinic at one instant, and a second booking sent the
 * patient two confirmations and every reminder twice. One with an external id of the clinic's
 * system other than the moved one's is another booking of theirs. Takes the API's per-patient
 * booking lock, so the dashboard and the API cannot both book the time at once.
 */
async function sameTimeAppointment(
  tx: Tx,
  patientId: string,
  localTime: string,
  timezone: string,
  moving: string | null,
): Promise<string | null> {
  await tx`select pg_advisory_xact_lock(hashtextextended(${patientId}::uuid::text, 7240311))`;
  const [row] = await tx<{ id: string }[]>`
    select a.id from appointments a
     where a.patient_id = ${patientId}::uuid
       and a.starts_at = public.wall_time_instant(${localTime}::text::timestamp, ${timezone})
       and a.status in ('scheduled', 'confirmed', 'reschedule_requested')
       and a.id is distinct from ${moving}::uuid
       and (a.external_id is null
            or (select m.external_id from appointments m where m.id = ${moving}::uuid) is null
            or a.external_id = (select m.external_id from appointments m where m.id = ${moving}::uuid))
     order by a.created_at, a.id
     limit 1`;
  return row?.id ?? null;
}

/**
 * Insert an appointment for a patient of the organization; returns its id.
 *
 * The wall-clock time goes to PostgreSQL as text (`::text::timestamp`): a parameter PostgreSQL
 * types `timestamp` is serialized by postgres.js through `new Date(value)`, which reads
 * "2030-06-03T09:30" in the Node process's own timezone, so a dashboard on a server not set to
 * UTC stored every appointment off by its offset (09:30 in Madrid became 04:00 under
 * TZ=Asia/Kolkata). The same holds for every local time below and in data/messages.ts. It becomes
 * an instant by `public.wall_time_instant` (migration 20260101015590): a time that happens twice,
 * the night the clocks go back, is the first (`AT TIME ZONE` alone took the second).
 */
export async function createAppointment(tx: Tx, input: NewAppointment): Promise<string> {
  // Not consented yet (invited): its confirmation and reminders would all be cancelled at send
  // time (no consent); the API refuses the booking too (409 on patient_id).
  const [patient] = await tx<{ consented: boolean }[]>`
    select consent_at is not null as consented from patients
     where id = ${input.patientId} and status <> 'deleted'`;
  if (!patient) throw new PatientNotFound("patient not found");
  if (!patient.consented) throw new PatientNotConsented("patient has not consented");
  const existing = await sameTimeAppointment(tx, input.patientId, input.localTime, input.timezone, null);
  if (existing !== null) throw new SameTimeAppointment(existing);
  const [row] = await tx<{ id: string }[]>`
    insert into appointments (organization_id, patient_id, starts_at, duration_minutes, location,
                              clinician_name, created_by)
    select p.organization_id, p.id, public.wall_time_instant(${input.localTime}::text::timestamp, ${input.timezone}),
           ${input.durationMinutes}, ${input.location}, ${input.clinicianName}, ${input.createdBy}
      from patients p where p.id = ${input.patientId}
    returning id`;
  if (!row) throw new PatientNotFound("patient not found");
  return row.id;
}

/**
 * Move an appointment (it becomes `scheduled` again). The row is all the dashboard changes: the
 * Python planner's next tick (`sync_appointments` in scheduler/appointments.py) sees `starts_at`
 * differ from `planned_starts_at`, withdraws the reminders planned for the old time, sends the
 * patient a notice and plans the new reminders.
 *
 * The reminders are not cancelled here: the planner re-plans only when `starts_at` differs from
 * what it planned for, so a "move" to the same time (the form is filled in with the current
 * one), or away and back before its next tick, would leave the patient with no reminders at all.
 * Refused (a SameTimeAppointment, nothing changed) onto another live appointment of the patient;
 * false when the appointment is closed or not the clinic's.
 */
export async function rescheduleAppointment(
  tx: Tx,
  id: string,
  localTime: string,
  timezone: string,
): Promise<boolean | SameTimeAppointment> {
  const [current] = await tx<{ patient_id: string }[]>`select patient_id from appointments where id = ${id}`;
  if (!current) return false;
  const existing = await sameTimeAppointment(tx, current.patient_id, localTime, timezone, id);
  if (existing !== null) return new SameTimeAppointment(existing);
  const rows = await tx`
    update appointments
       set starts_at = public.wall_time_instant(${localTime}::text::timestamp, ${timezone}), status = 'scheduled'
     where id = ${id} and status not in ('cancelled', 'completed', 'no_show') returning id`;
  return rows.length === 1;
}

async function cancelPendingReminders(tx: Tx, appointmentId: string): Promise<void> {
  await tx`
    update scheduled_messages set status = 'cancelled'
     where appointment_id = ${appointmentId} and status = 'pending'
       and kind in ('appointment_reminder', 'appointment_confirmation')`;
}

/** Cancel an appointment and its reminders that have not gone out yet. */
export async function cancelAppointment(tx: Tx, id: string): Promise<boolean> {
  const rows = await tx`
    update appointments set status = 'cancelled'
     where id = ${id} and status not in ('cancelled', 'completed') returning id`;
  if (rows.length !== 1) return false;
  await cancelPendingReminders(tx, id);
  return true;
}

/**
 * Record whether the patient came to an appointment that has started: `completed` (attended) or
 * `no_show`; a wrong outcome can be corrected, a cancelled appointment has none. Whatever is still
 * pending for it is withdrawn; `planned_status` follows so the planner's sync has nothing to do.
 */
export async function setAppointmentOutcome(tx: Tx, id: string, status: "completed" | "no_show"): Promise<boolean> {
  const rows = await tx.unsafe(
    `update appointments set status = $2, planned_status = $2
      where id = $1 and starts_at <= now() and status <> 'cancelled'
      returning id`,
    [id, status],
  );
  if (rows.length === 0) return false;
  await tx.unsafe(
    `update scheduled_messages set status = 'cancelled', last_error = 'appointment ' || $2
      where appointment_id = $1 and status = 'pending'`,
    [id, status],
  );
  return true;
}
