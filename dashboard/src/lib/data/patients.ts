import "server-only";
import type { Tx } from "../db";
import type { ScheduleFields } from "../schedule-summary";
import { CONTACT_HINT } from "./patient-hint";

/** Patient queries. Every function runs inside `asClinician`, so RLS limits the rows. */

export interface ChannelState {
  channel: string;
  address: string;
  verified: boolean;
  active: boolean;
  opted_out: boolean;
  blocked: boolean;
  /** When the provider refused the chat for good / the patient opted out (JSON timestamps). */
  blocked_at: string | null;
  opted_out_at: string | null;
  last_error: string | null;
  /**
   * An address the clinic entered that another patient record holds (kept as an invitation to
   * its owner): nothing is sent to it for this patient, and the page says so (lib/address-held.ts).
   */
  held_elsewhere: boolean;
}

export interface PatientSummary {
  id: string;
  display_name: string | null;
  status: string;
  taken_7: number;
  closed_7: number;
  taken_30: number;
  closed_30: number;
  last_answer_status: string | null;
  last_answer_at: Date | null;
  channels: ChannelState[];
}

/** Adherence as a percentage, or null when no dose was due and closed in the window. */
export function adherence(taken: number, closed: number): number | null {
  return closed > 0 ? Math.round((100 * taken) / closed) : null;
}

/**
 * The doses adherence counts over 30 days: due in the 30 days up to now, on the patients list
 * and the patient's page alike (the page counted the newest 300 rows of the dose history, so a
 * patient with 18 doses a day read 90% there and 50% on the list).
 */
// 720 hours, not '30 days': that is calendar days in the session's timezone, an hour more or
// less across its clock change.
const dueIn30Days = (row: string) => `${row}.due_at >= now() - interval '720 hours' and ${row}.due_at <= now()`;

const CHANNELS_JSON = `
  coalesce((select json_agg(json_build_object(
      'channel', c.channel, 'address', c.address, 'verified', c.verified, 'active', c.active,
      'opted_out', c.opted_out_at is not null, 'blocked', c.blocked_at is not null,
      'blocked_at', c.blocked_at, 'opted_out_at', c.opted_out_at, 'last_error', c.last_error,
      'held_elsewhere', c.held_elsewhere)
    order by coalesce(array_position(p.channel_order, c.channel), 99), c.created_at)
    from (select channel, address, verified, active, opted_out_at, blocked_at, last_error, created_at,
                 false as held_elsewhere
            from contact_points where patient_id = p.id
          -- An address the clinic entered that another patient owns (an invitation to that owner
          -- waits): marked, since nothing is sent to it for this patient; whose it is, RLS hides.
          union all
          select claimed_channel, claimed_address, claimed_verified, true, null, null, null, created_at, true
            from patient_invites where patient_id = p.id and claimed_address is not null and used_at is null) c),
    '[]'::json)`;

/** Rows a list or picker shows at most: a page of the clinic's patients by name. */
export const PATIENT_LIST_LIMIT = 200;
export const PATIENT_PICKER_LIMIT = 500;

/**
 * Patients a search matches: its text in the name, the external id or a contact address (an
 * address awaiting its owner too), accents and case aside ("munoz" finds "Muñoz"), and a phone
 * number however it is written ("612 345 678" finds +34612345678): the database's
 * `patients.search_name` and `public.search_address_contains` (migration 20260101018120).
 */
const PATIENT_MATCH = `
    p.status <> 'deleted'
      and ($1 = '' or p.search_name ilike public.search_like(public.search_fold($1))
           or p.external_id ilike public.search_like($1)
           or exists (select 1 from contact_points c
                       where c.patient_id = p.id and public.search_address_contains(c.address, c.channel, $1))
           -- an address entered for this patient that another patient owns is found alike
           or exists (select 1 from patient_invites i
                       where i.patient_id = p.id and i.used_at is null
                         and public.search_address_contains(i.claimed_address, i.claimed_channel, $1)))`;

/**
 * Patients matching `search` (name, external id or a contact address) with adherence over 7 and
 * 30 days (taken / taken+skipped+missed among doses already due), their last answer and channels:
 * the first PATIENT_LIST_LIMIT by name, and how many match in all (`total`), so that the page
 * says when some are not shown (it said "200 patients" of a clinic of 700).
 */
export async function listPatients(
  tx: Tx,
  search: string,
): Promise<{ patients: PatientSummary[]; total: number }> {
  // The page's patients first, then their doses and last answers: read for the 200 shown, not
  // for every patient of the clinic (each patient's last answer is an index scan of their doses).
  const patients = await tx.unsafe<PatientSummary[]>(
    `
    with shown as (
      select p.* from patients p
       where ${PATIENT_MATCH}
       order by p.display_name nulls last, p.created_at
       limit ${PATIENT_LIST_LIMIT}
    ), dose as (
      select patient_id,
        count(*) filter (where status = 'taken' and due_at >= now() - interval '7 days')::int as taken_7,
        count(*) filter (where status in ('taken', 'skipped', 'missed')
                           and due_at >= now() - interval '7 days')::int as closed_7,
        count(*) filter (where status = 'taken')::int as taken_30,
        count(*) filter (where status in ('taken', 'skipped', 'missed'))::int as closed_30
      from dose_events e
      where ${dueIn30Days("e")} and e.patient_id in (select id from shown)
      group by patient_id
    )
    select p.id, p.display_name, p.status,
      coalesce(d.taken_7, 0) as taken_7, coalesce(d.closed_7, 0) as closed_7,
      coalesce(d.taken_30, 0) as taken_30, coalesce(d.closed_30, 0) as closed_30,
      la.status as last_answer_status, la.answered_at as last_answer_at,
      ${CHANNELS_JSON} as channels
    from shown p
    left join dose d on d.patient_id = p.id
    left join lateral (
      select e.status, e.answered_at from dose_events e
       where e.patient_id = p.id and e.answered_at is not null
       order by e.answered_at desc limit 1
    ) la on true
    order by p.display_name nulls last, p.created_at`,
    [search],
  );
  return { patients, total: await countMatching(tx, search, patients.length, PATIENT_LIST_LIMIT) };
}

/** How many patients `search` matches, counted only when a page of `limit` came back full. */
async function countMatching(tx: Tx, search: string, shown: number, limit: number): Promise<number> {
  if (shown < limit) return shown;
  const [row] = await tx.unsafe<{ total: number }[]>(
    `select count(*)::int as total from patients p where ${PATIENT_MATCH}`,
    [search],
  );
  return row?.total ?? shown;
}

/** A row of a patient picker: enough to label the patient (lib/patient-label.ts) and preview. */
export interface PatientOption {
  id: string;
  display_name: string | null;
  external_id: string | null;
  contact_hint: string | null;
  locale: string;
  /** IANA zone: Compose shows the patient's own time of a message typed in the clinic's. */
  timezone: string;
}

/** A picker's patients and how many the clinic has (`total`: more than listed past the limit). */
export interface PatientPicker {
  patients: PatientOption[];
  total: number;
}

/**
 * Minimal rows for pickers (compose, appointments, waitlist): the first PATIENT_PICKER_LIMIT by
 * name, and `include` (the patient whose page the picker was opened from) wherever it sorts. A
 * clinic with more patients could not choose the others: Compose opened from such a patient's
 * page offered "Choose a patient" and a list without them.
 */
export async function patientOptions(tx: Tx, include: string | null = null): Promise<PatientPicker> {
  const patients = await tx.unsafe<PatientOption[]>(
    `select o.id, o.display_name, o.external_id, o.contact_hint, o.locale, o.timezone from (
       (select p.id, p.display_name, p.external_id, ${CONTACT_HINT} as contact_hint, p.locale, p.timezone, p.created_at
          from patients p where p.status <> 'deleted'
         order by p.display_name nulls last, p.created_at limit ${PATIENT_PICKER_LIMIT})
       union
       select p.id, p.display_name, p.external_id, ${CONTACT_HINT} as contact_hint, p.locale, p.timezone, p.created_at
         from patients p where p.status <> 'deleted' and p.id = $1::uuid) o
      order by o.display_name nulls last, o.created_at`,
    [include],
  );
  return { patients, total: await countMatching(tx, "", patients.length, PATIENT_PICKER_LIMIT) };
}

export interface PatientDetail {
  id: string;
  display_name: string | null;
  status: string;
  locale: string;
  timezone: string;
  external_id: string | null;
  consent_at: Date | null;
  quiet_start: string | null;
  quiet_end: string | null;
  reminders_paused: boolean;
  /** When a pause with a length or an end date ends by itself (null: until the patient resumes). */
  reminders_paused_until: Date | null;
  /** Since when no channel of the patient's order can take a reminder any more (null: reachable,
   * or not linked yet). */
  unreachable_since: Date | null;
  /** When something first reached the patient: a message sent, or their own (null: not linked yet). */
  linked_at: Date | null;
  channel_order: string[];
  channels: ChannelState[];
  /** Set on an erased patient's tombstone, with why (no personal data is left). */
  erased_at: Date | null;
  erasure_reason: string | null;
}

/** One patient, or null when it does not exist or belongs to another organization. */
export async function getPatient(tx: Tx, id: string): Promise<PatientDetail | null> {
  const rows = await tx.unsafe<PatientDetail[]>(
    `select p.id, p.display_name, p.status, p.locale, p.timezone, p.external_id, p.consent_at,
            p.quiet_start::text, p.quiet_end::text, p.reminders_paused,
            p.reminders_paused_until, p.unreachable_since, p.linked_at, p.channel_order, ${CHANNELS_JSON} as channels, p.erased_at,
            p.erasure_reason
       from patients p where p.id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

export interface MedicationRow {
  id: string;
  name: string;
  dose: string | null;
  status: string;
  pill_count: number | null;
  /** Reminders first at their minute and never early (migration 20260101010200). */
  time_critical: boolean;
  schedules: (ScheduleFields & { timezone: string | null })[];
}

/** The patient's medicines with their reminder schedules. */
export async function medications(tx: Tx, patientId: string): Promise<MedicationRow[]> {
  return tx<MedicationRow[]>`
    select m.id, m.name, m.dose, m.status, m.pill_count, m.time_critical,
      coalesce((select json_agg(json_build_object(
          'times_of_day', s.times_of_day, 'days_of_week', s.days_of_week,
          'every_n_days', s.every_n_days, 'start_date', s.start_date, 'end_date', s.end_date,
          'max_count', s.max_count, 'timezone', s.timezone, 'status', s.status) order by s.created_at)
        from reminder_schedules s where s.medication_id = m.id), '[]'::json) as schedules
    from medications m where m.patient_id = ${patientId} and m.status <> 'deleted'
    order by m.name`;
}

/**
 * Mark a medication of the patient time-critical (or routine again) through the database function
 * `set_time_critical` (migration 20260101010750), the one the API's
 * `PATCH /api/v1/patients/{id}/medications/{id}` calls too: its pending reminders follow in the
 * same statement. Security invoker, so RLS keeps it to the clinician's clinic and the
 * medications' audit trigger records the clinician. Null when the medication is not the
 * patient's (or not the clinic's: RLS hides it).
 */
export async function setTimeCritical(
  tx: Tx,
  patientId: string,
  medicationId: string,
  critical: boolean,
): Promise<{ name: string; time_critical: boolean } | null> {
  const rows = await tx<{ name: string; time_critical: boolean }[]>`
    select name, time_critical
      from set_time_critical(${medicationId}::uuid, ${patientId}::uuid, ${critical}::boolean)`;
  return rows[0] ?? null;
}

export interface DoseRow {
  id: string;
  medication: string;
  due_at: Date;
  /** The dose's status, or `upcoming` for an open dose whose time has not come yet. */
  status: string;
  answered_at: Date | null;
  answered_channel: string | null;
}

/**
 * Doses of the last 30 days (and the next day), newest first. A dose is stored `due` from the
 * moment it is planned, so one not due yet reads `upcoming` (by the database's clock): read as
 * due, tomorrow's doses looked like doses the patient had left unanswered.
 */
export async function doseHistory(tx: Tx, patientId: string): Promise<DoseRow[]> {
  return tx<DoseRow[]>`
    select e.id, m.name as medication, e.due_at,
           case when e.status = 'due' and e.due_at > now() then 'upcoming' else e.status end as status,
           e.answered_at, e.answered_channel
      from dose_events e join medications m on m.id = e.medication_id
     where e.patient_id = ${patientId}
       and e.due_at >= now() - interval '30 days' and e.due_at <= now() + interval '1 day'
     order by e.due_at desc limit 300`;
}

/** One calendar day of a patient's adherence chart, in their timezone. */
export interface AdherenceDay {
  /** YYYY-MM-DD in the patient's timezone. */
  day: string;
  taken: number;
  /** Taken, skipped or missed. */
  closed: number;
}

/**
 * The patient's doses due in the last 30 days (as the patients list counts them) per calendar
 * day in `timezone`, oldest first, every day of the window listed: counted in SQL over all of
 * them, not from the dose history's rows, and days stepped by the calendar (24-hour steps back
 * from now skipped or repeated a day across a clock change).
 */
export async function adherenceDays(tx: Tx, patientId: string, timezone: string): Promise<AdherenceDay[]> {
  return tx.unsafe<AdherenceDay[]>(
    `select to_char(d, 'YYYY-MM-DD') as day,
            count(e.id) filter (where e.status = 'taken')::int as taken,
            count(e.id) filter (where e.status in ('taken', 'skipped', 'missed'))::int as closed
       from generate_series(((now() - interval '720 hours') at time zone $2)::date,
                            (now() at time zone $2)::date, interval '1 day') d
       left join dose_events e
         on e.patient_id = $1 and ${dueIn30Days("e")}
        and (e.due_at at time zone $2)::date = d::date
      group by d
      order by d`,
    [patientId, timezone],
  );
}

export interface CaregiverRow {
  id: string;
  name: string;
  channel: string;
  address: string;
  alert_delay_minutes: number;
  share_details: boolean;
  active: boolean;
  /** IANA zone for the caregiver's quiet hours; null: the patient's zone. */
  timezone: string | null;
  /** When the caregiver opted out (STOP, /stop, the carrier): no alerts until they send START. */
  opted_out_at: Date | null;
  /** When a permanent error showed the address unreachable (bot blocked, invalid number). */
  blocked_at: Date | null;
  /** A Telegram chat id typed in before caregiver links: no alerts until their chat opens a link. */
  awaiting_link_since: Date | null;
  /** When the patient was sent a link to forward to such a caregiver (null: not yet). */
  link_offered_at: Date | null;
  /** How many such links were sent: a second, the last, when the first expired unopened. */
  link_offers: number;
  /** When that link stops working, opened or not. */
  link_expires_at: Date | null;
  /** That link stopped working (by the database's clock). */
  link_expired: boolean;
}

/** The patient's caregivers. */
export async function caregivers(tx: Tx, patientId: string): Promise<CaregiverRow[]> {
  return tx<CaregiverRow[]>`
    select id, name, channel, address, alert_delay_minutes, share_details, active, timezone,
           opted_out_at, blocked_at, awaiting_link_since, link_offered_at, link_offers,
           -- A link works for 7 days (bot/dialogs/caregiver_links.py LIFETIME; the e2e checks it):
           -- 168 hours, as Python's timedelta counts them. '7 days' is calendar days in the
           -- session's zone, an hour short across a clock change where that zone has one.
           link_offered_at + interval '168 hours' as link_expires_at,
           coalesce(link_offered_at + interval '168 hours' <= now(), false) as link_expired
      from caregivers where patient_id = ${patientId} order by created_at`;
}

export interface NewPatient {
  displayName: string;
  timezone: string;
  locale: string;
  externalId: string | null;
  channel: string;
  /** null for Telegram: the patient links their chat by an invite link. */
  address: string | null;
  consent: boolean;
  /**
   * The clinician chose, after being told the address is held by another record, to register
   * the patient without it and keep it as an invitation to its owner.
   */
  inviteHolder: boolean;
}

/**
 * The address of a new patient is another patient record's: nothing was created. `ownPatientId`
 * is the clinic's own patient holding it (row-level security shows no other clinic's), else null.
 */
export class AddressHeld extends Error {
  constructor(readonly ownPatientId: string | null) {
    super("address held by another patient record");
  }
}

/**
 * Insert a patient of the clinician's organization with one contact point (none for Telegram: the
 * patient's chat is linked when they open an invite link); returns its id.
 */
export async function createPatient(tx: Tx, input: NewPatient): Promise<string> {
  const [patient] = await tx<{ id: string }[]>`
    insert into patients (organization_id, display_name, timezone, locale, external_id,
                          channel_order, consent_at, status)
    values (public.current_organization_id(), ${input.displayName}, ${input.timezone},
            ${input.locale}, ${input.externalId}, array[${input.channel}]::text[],
            ${input.consent ? new Date() : null}, ${input.consent ? "active" : "invited"})
    returning id`;
  if (!patient) throw new Error("patient insert returned no row");
  if (input.address === null) return patient.id;
  const [added] = await tx<{ id: string }[]>`
    insert into contact_points (patient_id, channel, address, verified)
    values (${patient.id}, ${input.channel}, ${input.address}, true)
    on conflict (channel, address) do nothing
    returning id`;
  if (!added) {
    // Another patient's address (of this clinic, of another, or someone registered on their
    // own): nothing is sent to it for this patient, so the form says so before anything is
    // created (the thrown error rolls the patient back), unless the clinician chose to register
    // without it and invite its holder (a self-registered one is sent the invitation).
    if (!input.inviteHolder) {
      const [own] = await tx<{ patient_id: string }[]>`
        select patient_id from contact_points where channel = ${input.channel} and address = ${input.address}`;
      throw new AddressHeld(own?.patient_id ?? null);
    }
    await tx`select public.invite_address_owner(${patient.id}, ${input.channel}, ${input.address}, true)`;
  }
  return patient.id;
}

export interface Tombstone {
  id: string;
  erased_at: Date;
  erasure_reason: string | null;
}

/** Erased patients of the organization, newest first: when and why, nothing personal. */
export async function tombstones(tx: Tx): Promise<Tombstone[]> {
  return tx<Tombstone[]>`
    select id, erased_at, erasure_reason from patients
     where status = 'deleted' and erased_at is not null
     order by erased_at desc limit 50`;
}

/**
 * Erase a patient of the clinician's organization (public.request_erasure: every row about them
 * goes, the record stays as a tombstone); false when there was nothing to erase.
 */
export async function requestErasure(tx: Tx, id: string): Promise<boolean> {
  const [row] = await tx<{ erased: boolean }[]>`select public.request_erasure(${id}) as erased`;
  return row?.erased ?? false;
}
