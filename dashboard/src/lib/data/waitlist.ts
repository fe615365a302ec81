import "server-only";
import type { Tx } from "../db";

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

/** Put a patient on the waitlist; false when they are already waiting. */
export async function addToWaitlist(tx: Tx, entry: NewEntry): Promise<boolean> {
  const rows = await tx.unsafe(
    `insert into waitlist_entries (organization_id, patient_id, days_of_week, earliest, latest, note)
     select public.current_organization_id(), p.id, $2::smallint[], $3::time, $4::time, $5
       from patients p
      where p.id = $1 and p.status <> 'deleted'
        and not exists (select 1 from waitlist_entries w where w.patient_id = p.id and w.status = 'waiting')
     returning id`,
    [entry.patientId, entry.days, entry.earliest, entry.latest, entry.note],
  );
  return rows.length === 1;
}

export async function removeFromWaitlist(tx: Tx, id: string): Promise<boolean> {
  const rows = await tx.unsafe(
    `update waitlist_entries set status = 'removed' where id = $1 and status = 'waiting' returning id`,
    [id],
  );
  return rows.length === 1;
}
