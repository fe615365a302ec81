import "server-only";
import type { Tx } from "../db";
import type { PatientReach } from "../compose";
import { CONTACT_HINT } from "./patient-hint";
import { visible } from "./visible";
import { type SendNowFacts, sendNowVerdict } from "../send-now";

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

/** The payload of a message Compose inserts for one patient (its category: none). */
const ONE_PAYLOAD = { source: "dashboard" };
/** The payload of a group message: `group` makes its category clinic news (message_category). */
const GROUP_PAYLOAD = { source: "dashboard", group: true };

export interface AttemptRow {
  id: string;
  attempt_time: string;
  status: string;
  channel: string | null;
  error_class: string | null;
  error_message: string | null;
  duration_ms: number | null;
  /** This attempt wrote the message to the outbox folder instead of a provider. */
  via_outbox: boolean;
}

export interface MessageRow {
  id: string;
  patient_id: string;
  patient_name: string | null;
  kind: string;
  message_content: string | null;
  /** The clinic template the worker renders this message from, if any. */
  template: string | null;
  scheduled_time: Date;
  status: string;
  platform: string;
  channel_used: string | null;
  /** The caregiver a caregiver's alert or notice is for (a patient's caregivers may be several). */
  caregiver_name: string | null;
  /** The medicine of the dose a reminder or follow-up is about, if any. */
  medicine: string | null;
  attempts: number;
  last_error: string | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  /** Sent to the outbox folder (no provider credentials): nobody received it. */
  via_outbox: boolean;
  /** The failed message this one re-sends, if any. */
  resent_from: string | null;
  /** The copy that re-sends this failed message, if any. */
  resent_as: string | null;
  /** Not held by quiet hours. */
  urgent: boolean;
  /** Written by the clinic (Compose, the API): its text and time may be changed until it goes. */
  from_clinic: boolean;
  /** Why this failed dose reminder can no longer be re-sent (lib/delivery.ts), else null. */
  resend_closed: string | null;
  /** The dose a reminder or follow-up is about: when it is due (lib/send-now.ts). */
  dose_due_at: Date | null;
  /** How early the clinic lets this dose's reminder go, in seconds (lib/send-now.ts). */
  dose_early_seconds: number;
  attempt_list: AttemptRow[];
}

const ATTEMPTS_JSON = `
  coalesce((select json_agg(json_build_object(
      'id', a.id, 'attempt_time', a.attempt_time, 'status', a.status, 'channel', a.channel,
      'error_class', a.error_class, 'error_message', a.error_message, 'duration_ms', a.duration_ms,
      'via_outbox', a.via_outbox)
    order by a.attempt_time)
    from message_delivery_attempts a where a.message_id = m.id), '[]'::json)`;

/**
 * What Send now decides by (lib/send-now.ts): the dose's due time, and how early the clinic lets
 * a reminder of it go (its early window for medication reminders; none for a time-critical one).
 */
const SEND_NOW_FACTS = `
  (select de.due_at from dose_events de where de.id = m.dose_event_id) as dose_due_at,
  coalesce((select case when md.time_critical then 0
                        else (o.early_send_seconds ->> 'medication_reminder')::int end
              from organizations o
              left join dose_events de on de.id = m.dose_event_id
              left join medications md on md.id = de.medication_id
             where o.id = m.organization_id), 0) as dose_early_seconds`;

/**
 * Why a failed dose reminder or follow-up can no longer be re-sent (public.resend_message,
 * migration 20260101016500: 'dose_closed' or 'too_late'), else null.
 */
const RESEND_CLOSED = `
  case when m.status = 'failed' and public.dose_prompt_window_end(m) is not null then
    case when (select de.status from dose_events de where de.id = m.dose_event_id) not in ('due', 'snoozed')
           then 'dose_closed'
         when public.dose_prompt_window_end(m) <= now() then 'too_late' end
  end`;

const MESSAGE_COLUMNS = `
  m.id, m.patient_id, p.display_name as patient_name, m.kind, m.message_content, m.template, m.scheduled_time,
  m.status, m.platform, m.channel_used, m.attempts, m.last_error, m.sent_at, m.delivered_at,
  m.via_outbox, m.resent_from, m.urgent, m.from_clinic,
  (select r.id from scheduled_messages r where r.resent_from = m.id) as resent_as,
  (select c.name from caregivers c where c.id = m.caregiver_id) as caregiver_name,
  (select md.name from dose_events de join medications md on md.id = de.medication_id
    where de.id = m.dose_event_id) as medicine,
  ${SEND_NOW_FACTS},
  ${RESEND_CLOSED} as resend_closed,
  ${ATTEMPTS_JSON} as attempt_list`;

/** Rows the Scheduled messages list shows at most. */
export const MESSAGE_LIST_LIMIT = 200;

/**
 * Messages of the organization, optionally of one status: pending first by time, then recent;
 * the first MESSAGE_LIST_LIMIT, and how many there are in all (`total`), so that the page says
 * when some are not shown (it said "200 messages" of a clinic with 269, its sent ones unseen).
 */
export async function listMessages(tx: Tx, status: string | null): Promise<{ messages: MessageRow[]; total: number }> {
  const messages = await tx.unsafe<MessageRow[]>(
    `select ${MESSAGE_COLUMNS}
       from scheduled_messages m join patients p on p.id = m.patient_id
      where ($1::text is null or m.status = $1)
      order by (m.status in ('pending', 'processing')) desc,
               case when m.status in ('pending', 'processing') then m.scheduled_time end asc,
               m.scheduled_time desc
      limit ${MESSAGE_LIST_LIMIT}`,
    [status],
  );
  if (messages.length < MESSAGE_LIST_LIMIT) return { messages, total: messages.length };
  // The same rows as above, counted (row-level security limits both to the clinic's own).
  const [row] = await tx.unsafe<{ total: number }[]>(
    `select count(*)::int as total
       from scheduled_messages m join patients p on p.id = m.patient_id
      where ($1::text is null or m.status = $1)`,
    [status],
  );
  return { messages, total: row?.total ?? messages.length };
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
  /**
   * Free text, or null when `template` names a clinic template: the worker then renders that
   * template per patient (their language, the channel it goes out on), so no text is stored here.
   */
  content: string | null;
  /** The name of one of the clinic's free-text templates, or null for free text. */
  template: string | null;
  /** Wall-clock `YYYY-MM-DDTHH:MM` in `timezone`, or null for now. */
  localTime: string | null;
  timezone: string;
  /** Urgent messages are not deferred by quiet hours. */
  urgent: boolean;
  createdBy: string;
}

/**
 * Insert a pending clinician message, free text or from a clinic template (the worker sends it
 * when due); returns its id.
 */
export async function scheduleMessage(tx: Tx, input: NewMessage): Promise<string> {
  const [row] = await tx<{ id: string }[]>`
    insert into scheduled_messages (patient_id, message_content, template, scheduled_time,
                                    platform, kind, urgent, created_by, payload)
    values (${input.patientId}, ${input.content}, ${input.template},
            case when ${input.localTime}::text is null then now()
                 else public.wall_time_instant(${input.localTime}::text::timestamp, ${input.timezone}) end,
            ${input.platform}, 'free_text', ${input.urgent}, ${input.createdBy}, ${tx.json(ONE_PAYLOAD)})
    returning id`;
  if (!row) throw new Error("message insert returned no row");
  return row.id;
}

/**
 * Where a compose message to `patientId` on `platform`, due at `localTime` (null: now), can go
 * and whether it is due too soon to wait for the patient: `public.message_reach`, the same
 * function the API calls (core/sql/web.sql patient_channels), for kind free_text with fallback
 * (every dashboard row allows it: scheduled_messages.allow_fallback defaults to true). Row-level
 * security keeps it to the clinician's organization. Null: no such patient visible.
 */
export async function composeReach(
  tx: Tx,
  patientId: string,
  platform: string,
  localTime: string | null,
  timezone: string,
): Promise<(PatientReach & { at_night: boolean }) | null> {
  // at_night: the patient's quiet hours hold its time (public.patient_quiet_at, the dispatcher's
  // window): an urgent message reaches them at night, another waits for the window's end.
  const [row] = await tx<(PatientReach & { at_night: boolean })[]>`
    with due as (
      select case when ${localTime}::text is null then now()
                  else public.wall_time_instant(${localTime}::text::timestamp, ${timezone}) end as at
    )
    select r.consented, r.route, r.usable_channels, r.due_soon, r.refusal_minutes,
           coalesce(public.patient_quiet_at(${patientId}::uuid, public.current_organization_id(), due.at),
                    false) as at_night
      from due cross join public.message_reach(
             ${patientId}::uuid, public.current_organization_id(), 'free_text',
             ${tx.json(ONE_PAYLOAD)}, ${platform}, true, due.at, now()) r`;
  return row ?? null;
}

/**
 * The names compose fills into free text for one patient: theirs and their clinic's; null when
 * the patient is not one the clinician may see (another clinic's, or none).
 */
export async function composeNames(tx: Tx, patientId: string): Promise<{ patient: string | null; clinic: string } | null> {
  const [row] = await tx<{ patient: string | null; clinic: string }[]>`
    select p.display_name as patient, o.name as clinic
      from patients p join organizations o on o.id = p.organization_id
     where p.id = ${patientId} and p.status <> 'deleted'`;
  return row ?? null;
}

/**
 * Cancel a pending message, or one a worker claimed ahead of its time until a second before it
 * (public.cancel_scheduled_message, the API's cancel too: migration 20260101018320).
 * "not_found" when the clinician cannot see it (another clinic's id, or none: row-level
 * security hides it, and the answer must not tell that it exists); "being_sent" when its time
 * has come and a worker is sending it; "not_pending" when it is the clinic's but no longer pending.
 */
export async function cancelMessage(
  tx: Tx,
  id: string,
): Promise<"cancelled" | "being_sent" | "not_pending" | "not_found"> {
  const rows = await tx`select id from public.cancel_scheduled_message(${id}, null)`;
  if (rows.length === 1) return "cancelled";
  const [row] = await tx<{ status: string }[]>`select status from scheduled_messages where id = ${id}`;
  if (row?.status === "processing") return "being_sent";
  return (await visible(tx, "message", id)) ? "not_pending" : "not_found";
}

/** A message as its edit page shows it (lib/data/messages.ts editMessage). */
export interface EditableMessage {
  id: string;
  patient_id: string;
  patient_name: string | null;
  /** The patient's IANA zone: the edit page shows their own time of the message too. */
  patient_timezone: string;
  message_content: string | null;
  template: string | null;
  kind: string;
  platform: string;
  status: string;
  scheduled_time: Date;
  from_clinic: boolean;
}

/** Message `id` for its edit page; null when the clinician cannot see it. */
export async function messageToEdit(tx: Tx, id: string): Promise<EditableMessage | null> {
  const [row] = await tx<EditableMessage[]>`
    select m.id, m.patient_id, p.display_name as patient_name, p.timezone as patient_timezone,
           m.message_content, m.template, m.kind, m.platform, m.status, m.scheduled_time, m.from_clinic
      from scheduled_messages m join patients p on p.id = m.patient_id
     where m.id = ${id}`;
  return row ?? null;
}

/**
 * Whether the clinic may change this message's text and time: one it wrote (Compose, the API),
 * of free text, not sent yet (pending, or claimed ahead by a worker while its time is ahead).
 * The database decides at the edit (public.edit_scheduled_message): this only offers it.
 */
export function editable(m: Pick<EditableMessage, "from_clinic" | "template" | "kind" | "status" | "scheduled_time">, now: Date): boolean {
  if (!m.from_clinic || m.template !== null || m.kind !== "free_text") return false;
  return m.status === "pending" || (m.status === "processing" && m.scheduled_time.getTime() > now.getTime());
}

export type EditOutcome = "edited" | "being_sent" | "not_pending" | "not_found";

/**
 * Where message `id` can go at its time as it stands now (a row of `public.message_reach` on its
 * own platform and fallback, as the API's edit reads it: medremind/web/api_v1/message_edit.py);
 * null for a message to a caregiver (their address, not the patient's channels) or none.
 */
export async function messageReachNow(tx: Tx, id: string): Promise<PatientReach | null> {
  const [row] = await tx<PatientReach[]>`
    select r.consented, r.route, r.usable_channels, r.due_soon, r.refusal_minutes
      from scheduled_messages m
     cross join lateral public.message_reach(
             m.patient_id, m.organization_id, m.kind, m.payload, m.platform,
             m.platform = 'auto' or m.allow_fallback, m.scheduled_time, now()) r
     where m.id = ${id} and m.caregiver_id is null`;
  return row ?? null;
}

/**
 * How message `id` goes at its time as it stands now: "quiet_held" when its patient's quiet
 * hours hold that time and it is not urgent (the worker defers it to their end), "quiet_urgent"
 * when they hold it and it is urgent (it reaches them at night), else null. The same window as
 * Compose's notice and the dispatcher's (public.patient_quiet_at).
 */
export async function quietAtItsTime(tx: Tx, id: string): Promise<"quiet_held" | "quiet_urgent" | null> {
  const [row] = await tx<{ quiet: boolean | null; urgent: boolean }[]>`
    select public.patient_quiet_at(m.patient_id, public.current_organization_id(), m.scheduled_time) as quiet,
           m.urgent
      from scheduled_messages m
     where m.id = ${id}`;
  if (!row?.quiet) return null;
  return row.urgent ? "quiet_urgent" : "quiet_held";
}

/**
 * Change message `id`'s text (`content`, null: as it is) and time (`localTime` in `timezone`,
 * null: as it is): public.edit_scheduled_message, the API's edit too (migration
 * 20260101018500): a pending message, or one a worker claimed ahead of its time until a second
 * before it (the worker then sends only the new version, at the new time). "being_sent" when
 * its time has come and a worker is sending it; "not_found" when the clinician cannot see it.
 */
export async function editMessage(
  tx: Tx,
  id: string,
  content: string | null,
  localTime: string | null,
  timezone: string,
): Promise<EditOutcome> {
  const rows = await tx`
    select id from public.edit_scheduled_message(
      ${id}, null, ${content},
      case when ${localTime}::text is null then null
           else public.wall_time_instant(${localTime}::text::timestamp, ${timezone}) end)`;
  if (rows.length === 1) return "edited";
  const [row] = await tx<{ status: string }[]>`select status from scheduled_messages where id = ${id}`;
  if (row?.status === "processing") return "being_sent";
  return (await visible(tx, "message", id)) ? "not_pending" : "not_found";
}

/**
 * Whether message `id` (in `status`) would reach its patient if it were due now: some channel it
 * may take has a contact point that may be written to (`public.message_reach`, the rule of
 * Compose and the API). A caregiver's message and a bot's reply go to their own address: they
 * are not the patient's channels' to judge. Null: no such message in that status (or not visible).
 */
async function reachesNow(tx: Tx, id: string, status: "pending" | "failed"): Promise<boolean | null> {
  const [row] = await tx<{ reaches: boolean }[]>`
    select m.caregiver_id is not null or m.conversation_id is not null
           or coalesce(cardinality(r.route), 0) > 0 as reaches
      from scheduled_messages m
      left join lateral public.message_reach(m.patient_id, m.organization_id, m.kind, m.payload,
                                             m.platform, m.allow_fallback, now(), now()) r on true
     where m.id = ${id} and m.status = ${status}`;
  return row ? row.reaches : null;
}

/**
 * Whether `text` shows something: not only spaces and invisible characters (zero-width spaces,
 * direction marks, blank fillers). The database's rule for names (public.person_name_visible,
 * migration 20260101015500), which the API holds a message's text to too (core/person_names.py).
 */
export async function textVisible(tx: Tx, text: string): Promise<boolean> {
  const [row] = await tx<{ visible: boolean }[]>`select public.person_name_visible(${text}) as visible`;
  return row?.visible ?? false;
}

export type SendNowOutcome = "sent" | "not_pending" | "not_found" | "unreachable" | "dose_not_due" | "moved";

/**
 * Make a pending message due now, as confirmed: `confirmedTime` is the scheduled time (epoch
 * milliseconds) the clinician was asked about. "not_pending" when it is no longer pending;
 * "not_found" when the clinician cannot see it (another clinic's id); "dose_not_due" for a medication reminder before its dose's time (lib/send-now.ts);
 * "moved" when it is due at another time than the one confirmed; "unreachable" when no channel it
 * may take reaches its patient now (it would fail unsent at once). Refused, it is left as it was.
 */
export async function sendNow(tx: Tx, id: string, confirmedTime: number | null): Promise<SendNowOutcome> {
  const [row] = await tx.unsafe<(SendNowFacts & { now: Date })[]>(
    `select m.kind, m.scheduled_time, ${SEND_NOW_FACTS}, now() as now
       from scheduled_messages m where m.id = $1 and m.status = 'pending' for update`,
    [id],
  );
  if (!row) return (await visible(tx, "message", id)) ? "not_pending" : "not_found";
  const verdict = sendNowVerdict(row, row.now);
  if (verdict.verdict === "dose_not_due") return "dose_not_due";
  if (verdict.verdict === "confirm" && confirmedTime !== row.scheduled_time.getTime()) return "moved";
  const reaches = await reachesNow(tx, id, "pending");
  if (reaches === null) return "not_pending";
  if (!reaches) return "unreachable";
  const rows = await tx`
    update scheduled_messages set scheduled_time = now()
     where id = ${id} and status = 'pending' returning id`;
  return rows.length === 1 ? "sent" : "not_pending";
}

/**
 * Re-send a failed message as the signed-in clinician: `resend_message(message, actor)` (the
 * clinician's form, migration 20260101019141: the clinic's own rows they may see, dated by the
 * database's clock; the form with a time is the service's) inserts a pending copy due now, keeps
 * the failed row and its attempts, and audits it. Returns the outcome, the copy's id and whether
 * it went at a lower priority than the failed one (the clinic's share of priority 0 taken);
 * "resend_unreachable", and no copy, when no channel reaches the patient now.
 */
export async function resendMessage(
  tx: Tx,
  id: string,
): Promise<{ outcome: string; messageId: string | null; demoted: boolean }> {
  // The copy is due at once: when no channel reaches the patient now it would fail again, as
  // the API's re-send refuses it (409). Not re-sent yet is resend_message's to tell.
  if ((await reachesNow(tx, id, "failed")) === false) return { outcome: "resend_unreachable", messageId: null, demoted: false };
  const [row] = await tx<{ outcome: string; message_id: string | null }[]>`
    select outcome, message_id from resend_message(${id}::uuid, 'dashboard')`;
  if (!row) throw new Error("resend_message returned no row");
  if (row.outcome !== "resent" || row.message_id === null) return { outcome: row.outcome, messageId: row.message_id, demoted: false };
  // A copy of a priority-0 message past the clinic's hourly share goes at the default priority
  // (migration 20260101017650): the notice says so. A statement of its own: the one that called
  // resend_message does not see the row it inserted.
  const [copy] = await tx<{ demoted: boolean }[]>`
    select c.priority > f.priority as demoted from scheduled_messages c, scheduled_messages f
     where c.id = ${row.message_id}::uuid and f.id = ${id}::uuid`;
  return { outcome: row.outcome, messageId: row.message_id, demoted: copy?.demoted === true };
}

// Patients (active, or invited and not consented yet) whose name, external id or a contact address
// contains $1 (all when empty), as the patients list finds them (lib/data/patients.ts: accents and
// case aside, a phone number however written). An invited one gets no message (the worker would
// cancel it, "no consent recorded"; the API refuses it, 409) but is counted and named, so the
// clinician knows.
const GROUP_WHERE = `
  p.status in ('active', 'invited')
  and ($1 = '' or p.search_name ilike public.search_like(public.search_fold($1))
       or p.external_id ilike public.search_like($1)
       or exists (select 1 from contact_points c
                   where c.patient_id = p.id and public.search_address_contains(c.address, c.channel, $1)))`;

/** A group's size: its consented patients, how many of them no channel reaches now, how many
 * invited patients match too (they get nothing until they join), and how many of those given a
 * message are inside their quiet hours when it is due. */
export interface GroupCount {
  total: number;
  unreachable: number;
  invited: number;
  /** Given a message and inside their quiet hours at its time (`public.patient_quiet_at`): an
   * urgent message reaches them at night, another waits for their window's end. */
  night: number;
  /** At the cap on the clinic's messages per patient (`public.clinic_message_refusal`): given nothing. */
  capped: number;
}

/**
 * How many patients a group message to `search` on `platform`, due at `localTime` in `timezone`
 * (null: now), would go to, and how many of them no channel reaches now (`public.message_reach`:
 * a message sent now leaves them out), and how many of those given one are inside their quiet
 * hours then (`public.patient_quiet_at`, the dispatcher's window), and how many are at the cap on
 * the clinic's messages per patient (given nothing, named after the send).
 */
export async function countGroup(
  tx: Tx,
  search: string,
  platform: string,
  localTime: string | null = null,
  timezone = "UTC",
): Promise<GroupCount> {
  const [row] = await tx.unsafe<GroupCount[]>(
    `with due as (
       select case when $4::text is null then now()
                   else public.wall_time_instant($4::text::timestamp, $5::text) end as at
     )
     select count(*) filter (where r.consented)::int as total,
            count(*) filter (where r.consented and cardinality(r.route) = 0)::int as unreachable,
            count(*) filter (where not r.consented)::int as invited,
            count(*) filter (where r.consented and (cardinality(r.route) > 0 or not r.due_soon)
                               and public.patient_quiet_at(p.id, p.organization_id, due.at))::int as night,
            count(*) filter (where r.consented and cap.time_window is not null)::int as capped
       from patients p
       cross join due
       cross join lateral public.message_reach(p.id, p.organization_id, 'free_text', $2::text::jsonb,
                                               $3, true, due.at, now()) r
       left join lateral public.clinic_message_refusal(p.id) cap on true
      where ${GROUP_WHERE}`,
    [search, JSON.stringify(GROUP_PAYLOAD), platform, localTime, timezone],
  );
  return row ?? { total: 0, unreachable: 0, invited: 0, night: 0, capped: 0 };
}

/** A patient of a group whom no channel reaches now (lib/patient-label.ts names them). */
export interface UnreachableMember {
  id: string;
  display_name: string | null;
  external_id: string | null;
  contact_hint: string | null;
}

/** What a group message did: how many rows it inserted, and the patients no channel reaches. */
export interface GroupResult {
  scheduled: number;
  /** Not given a message: it was due within the refusal window and would have failed at once. */
  skipped: UnreachableMember[];
  /** Given a message due later that fails unless they can be reached by then. */
  unreachable_later: UnreachableMember[];
  /** Not given a message: invited, not consented yet (whenever it is due, as the API's 409). */
  not_consented: UnreachableMember[];
  /**
   * Not given a message: the clinic's messages to them in the last hour or 24 hours are at the
   * cap per patient (`public.clinic_message_refusal`, migration 20260101018340; the API's 429).
   */
  capped: UnreachableMember[];
  /** The refusal window in minutes (null: the search found nobody). */
  refusal_minutes: number | null;
}

/**
 * Insert one pending message per patient of the group; in free text `{{ patient_name }}` and
 * `{{ clinic_name }}` are filled in per patient here (as `fillForPatient` does for one), a
 * template is rendered per patient by the worker. Each member's reach is `public.message_reach`
 * (as for one patient and in the API): a member no channel reaches gets no row when the message
 * is due within the refusal window (it would fail at once), and a row with the others when it is
 * due later; a member who has not consented yet (invited) gets no row, whenever it is due, nor
 * does one the clinic has given as many messages as the cap per patient allows (in the last hour
 * or 24 hours). All four are returned, to be named to the clinician.
 */
export async function scheduleGroupMessage(
  tx: Tx,
  search: string,
  input: Omit<NewMessage, "patientId">,
): Promise<GroupResult> {
  const rows = await tx.unsafe<
    (UnreachableMember & {
      consented: boolean;
      reaches: boolean;
      due_soon: boolean;
      refusal_minutes: number;
      capped: boolean;
      inserted: boolean;
    })[]
  >(
    `with due as (
       select case when $3::text is null then now()
                   else public.wall_time_instant($3::text::timestamp, $4::text) end as at
     ), members as (
       select p.id, p.display_name, p.external_id, ${CONTACT_HINT} as contact_hint,
              o.name as clinic_name, r.consented, cardinality(r.route) > 0 as reaches, r.due_soon,
              r.refusal_minutes, cap.time_window is not null as capped
         from patients p
         join organizations o on o.id = p.organization_id
         cross join due
         cross join lateral public.message_reach(p.id, p.organization_id, 'free_text', $9::text::jsonb,
                                                 $5, true, due.at, now()) r
         left join lateral public.clinic_message_refusal(p.id) cap on true
        where ${GROUP_WHERE}
     ), inserted as (
       insert into scheduled_messages (patient_id, message_content, template, scheduled_time,
                                       platform, kind, urgent, created_by, payload)
       select m.id,
              -- In regexp_replace's replacement a backslash is special (\\1, \\&): double each one
              -- in the name, so "Ana \\& Co" is filled in as written.
              -- The clinic's name first, the patient's last: a name the patient typed that looks
              -- like a placeholder is not filled in again.
              regexp_replace(
                regexp_replace($2::text, '\\{\\{\\s*clinic_name\\s*\\}\\}',
                               replace(m.clinic_name, '\\', '\\\\'), 'g'),
                '\\{\\{\\s*patient_name\\s*\\}\\}',
                replace(coalesce(m.display_name, ''), '\\', '\\\\'), 'g'),
              $8::text, due.at, $5, 'free_text', $6, $7::uuid, $9::text::jsonb
         from members m cross join due
        where m.consented and (m.reaches or not m.due_soon) and not m.capped
        -- Each row's trigger locks its patient (the cap): one order for every writer, no deadlock.
        order by m.id
       returning patient_id
     )
     select m.id, m.display_name, m.external_id, m.contact_hint, m.consented, m.reaches, m.due_soon,
            m.refusal_minutes, m.capped, exists (select from inserted i where i.patient_id = m.id) as inserted
       from members m
      order by m.display_name nulls last, m.id`,
    [
      search,
      input.content,
      input.localTime,
      input.timezone,
      input.platform,
      input.urgent,
      input.createdBy,
      input.template,
      JSON.stringify(GROUP_PAYLOAD),
    ],
  );
  const member = ({ id, display_name, external_id, contact_hint }: UnreachableMember) => ({ id, display_name, external_id, contact_hint });
  return {
    scheduled: rows.filter((r) => r.inserted).length,
    skipped: rows.filter((r) => r.consented && !r.capped && !r.inserted).map(member),
    capped: rows.filter((r) => r.consented && r.capped).map(member),
    unreachable_later: rows.filter((r) => r.inserted && !r.reaches).map(member),
    not_consented: rows.filter((r) => !r.consented).map(member),
    refusal_minutes: rows[0]?.refusal_minutes ?? null,
  };
}
