import "server-only";
import type { Tx } from "../db";
import { constraintName, sqlState } from "../errors";

/**
 * The clinic's waitlist, as the signed-in clinician (row-level security: their clinic's rows,
 * their own patients only). Offers of freed slots are made by the Python planner when an
 * appointment is cancelled (`scheduler/waitlist.py`); the dashboard shows them.
 */

export interface WaitlistRow {
  id: string;
  patient_id: string;
  patient_name: string | null;
  days_of_week: number[] | null;
  earliest: string | null;
  latest: string | null;
  /** The zone the days and hours are in: the patient's. */
  patient_timezone: string;
  note: string | null;
  created_at: Date;
}

export interface OfferRow {
  id: string;
  starts_at: Date;
  status: string;
  offered: number;
  booked_name: string | null;
}

export async function listWaitlist(tx: Tx): Promise<WaitlistRow[]> {
  return tx.unsafe<WaitlistRow[]>(
    `select w.id, w.patient_id, p.display_name as patient_name, w.days_of_week,
            to_char(w.earliest, 'HH24:MI') as earliest, to_char(w.latest, 'HH24:MI') as latest,
            p.timezone as patient_timezone, w.note, w.created_at
       from waitlist_entries w join patients p on p.id = w.patient_id
      where w.status = 'waiting'
      order by w.created_at, w.id limit 500`,
  );
}

export async function recentOffers(tx: Tx): Promise<OfferRow[]> {
  return tx.unsafe<OfferRow[]>(
    `select o.id, o.starts_at, o.status,
            (select count(*)::int from slot_offer_recipients r where r.offer_id = o.id) as offered,
            (select p.display_name from appointments a join patients p on p.id = a.patient_id
              where a.id = o.booked_appointment_id) as booked_name
       from slot_offers o
      order by o.created_at desc limit 20`,
  );
}

export interface NewEntry {
  patientId: string;
  days: number[] | null;
  earliest: string | null;
  latest: string | null;
  note: string | null;
}

/** What adding to the waitlist did: added, or why not. */
export type AddOutcome = "added" | "not_found" | "not_consented" | "already_waiting";

/** The one waiting entry a patient may have (migration 20260101008720). */
const ONE_PER_PATIENT = "waitlist_entries_one_per_patient";

/**
 * Put a patient on the waitlist. Not a patient the clinic cannot see (another clinic's, erased),
 * nor one who has not consented yet (invited): the planner offers no freed slot to them
 * (core/sql/waitlist.sql fitting_entries) and accepting one books an appointment, which is
 * refused for them too (the API's POST /waitlist answers 409). "already_waiting" only for the
 * one-per-patient index, including a second add racing this one; any other error is thrown.
 */
export async function addToWaitlist(tx: Tx, entry: NewEntry): Promise<AddOutcome> {
  const [patient] = await tx.unsafe<{ consented: boolean }[]>(
    `select consent_at is not null as consented from patients where id = $1 and status <> 'deleted'`,
    [entry.patientId],
  );
  if (!patient) return "not_found";
  if (!patient.consented) return "not_consented";
  try {
    // A savepoint: a refused insert leaves the transaction usable (and the refusal is ours to name).
    const rows = await tx.savepoint((sp) =>
      sp.unsafe(
        `insert into waitlist_entries (organization_id, patient_id, days_of_week, earliest, latest, note)
         values (public.current_organization_id(), $1, $2::smallint[], $3::time, $4::time, $5)
         returning id`,
        [entry.patientId, entry.days, entry.earliest, entry.latest, entry.note],
      ),
    );
    return rows.length === 1 ? "added" : "already_waiting";
  } catch (error) {
    if (sqlState(error) === "23505" && constraintName(error) === ONE_PER_PATIENT) return "already_waiting";
    throw error;
  }
}

export async function removeFromWaitlist(tx: Tx, id: string): Promise<boolean> {
  const rows = await tx.unsafe(
    `update waitlist_entries set status = 'removed' where id = $1 and status = 'waiting' returning id`,
    [id],
  );
  return rows.length === 1;
}
