/**
 * Composing from a saved clinic template: which versions a template has, which one a preview
 * shows, and whether the chosen channel has a version at all. Pure: used by the compose page, the
 * form in the browser and the server action.
 *
 * The message itself is rendered by the Python worker, per patient (`render_claim` in
 * scheduler/rendering.py): the row only names the template (`scheduled_messages.template`), and
 * the worker picks the patient's locale and the channel the message goes out on with
 * `pick_version` (scheduler/custom_templates.py), which `pickVersion` below mirrors.
 */

/** The language the worker falls back to (core/templating.py FALLBACK_LOCALE). */
export const FALLBACK_LOCALE = "en";
/** The channel of a version that serves every channel without its own. */
export const ANY_CHANNEL = "default";
/** Same bound as the Templates page's name field. */
export const TEMPLATE_NAME_MAX = 100;

/** One saved version (language and channel) of a template. */
export interface TemplateVersion {
  name: string;
  locale: string;
  channel: string;
  body: string;
}

/** A template as Compose offers it: its name, what versions exist, and the text to preview. */
export interface TemplateChoice {
  name: string;
  /** `locale/channel` of every version, sorted (e.g. `en/default`, `es/sms`). */
  versions: string[];
  /** The version a preview shows (see `templateChoices`). */
  preview: TemplateVersion;
}

/**
 * The version the worker would send for `locale` on `channel`: the locale, then its language
 * (`es` for `es-MX`), then English, then any other locale alphabetically; within a locale the
 * channel, then `default`. Null when no version fits the channel.
 */
export function pickVersion<T extends TemplateVersion>(versions: readonly T[], locale: string, channel: string): T | null {
  const language = (locale.replaceAll("-", "_").split("_")[0] ?? "").toLowerCase();
  const byKey = new Map(versions.map((v) => [`${v.locale}\u0000${v.channel}`, v]));
  const others = [...new Set(versions.map((v) => v.locale))].sort();
  for (const loc of new Set([locale, language, FALLBACK_LOCALE, ...others])) {
    for (const chan of [channel, ANY_CHANNEL]) {
      const found = byKey.get(`${loc}\u0000${chan}`);
      if (found) return found;
    }
  }
  return null;
}

/**
 * The organization's templates by name, each previewed in `locale` (the clinic's default
 * language) for any channel; a template with channel-specific versions only is previewed from
 * the first of them.
 */
export function templateChoices(rows: readonly TemplateVersion[], locale: string): TemplateChoice[] {
  const byName = new Map<string, TemplateVersion[]>();
  for (const row of rows) byName.set(row.name, [...(byName.get(row.name) ?? []), row]);
  return [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, versions]) => {
      const sorted = [...versions].sort((a, b) => `${a.locale}/${a.channel}`.localeCompare(`${b.locale}/${b.channel}`));
      const preview = pickVersion(sorted, locale, ANY_CHANNEL) ?? (sorted[0] as TemplateVersion);
      return { name, versions: sorted.map((v) => `${v.locale}/${v.channel}`), preview };
    });
}

/**
 * Why the template cannot go out on `platform` (a channel, or `auto` for the patient's
 * preference), or null when it can. The worker fails a message whose template has no version for
 * the channel it goes out on; with `auto` that channel is only known per patient, so a version for
 * any channel is required.
 */
export function templateChannelProblem(versions: readonly Pick<TemplateVersion, "channel">[], platform: string): string | null {
  if (versions.length === 0) return "The template has no saved text.";
  const channels = new Set(versions.map((v) => v.channel));
  if (channels.has(ANY_CHANNEL)) return null;
  const listed = [...channels].sort().join(", ");
  if (platform === "auto") {
    return `The template only has versions for ${listed}: choose one of those channels, or save a version for any channel.`;
  }
  if (channels.has(platform)) return null;
  return `The template has no version for ${platform} (only ${listed}): choose another channel, or save a version for ${platform} or any channel.`;
}

/** A template name as the form sends it: trimmed, non-empty and within bounds, or null. */
export function templateNameFromForm(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const name = value.trim();
  return name && name.length <= TEMPLATE_NAME_MAX ? name : null;
}

/**
 * Where a compose message could go for one patient: a row of `public.message_reach` (migration
 * 20260101015200), the definition the JSON API uses too (core/sql/web.sql patient_channels), so
 * the two cannot disagree. Read by lib/data/messages.ts composeReach and the group insert.
 */
export interface PatientReach {
  /** The patient has consented (consent_at set); an invited one gets no message but a service
   * notice (scheduler/holds.py CONSENT_FREE_KINDS), so the worker would cancel a compose one. */
  consented: boolean;
  /** The channels the worker would try, in its order, each with a contact point that may be
   * written to now; empty: the message would fail unsent ("no usable contact point"). */
  route: readonly string[];
  /** Channels with a contact point that may be written to now (active, not opted out or blocked). */
  usable_channels: readonly string[];
  /** Due within `refusal_minutes` of now. */
  due_soon: boolean;
  /** The refusal window, in minutes: `public.unreachable_refusal_minutes()`. */
  refusal_minutes: number;
}

/**
 * What Compose does with a message to one patient, as the API does (docs/api.md "A patient no
 * channel can reach", medremind/web/api_v1/message_reach.py): refuse it, whenever it is due, to a
 * patient who has not consented yet (the worker cancels it with "no consent recorded"; the API
 * answers 409, checked before reach); send it when some channel reaches them; refuse it when none
 * does and it is due within the refusal window (it would fail unsent at once); accept a later one
 * with a notice, since the patient may reply START meanwhile.
 */
export function reachVerdict(
  reach: Pick<PatientReach, "consented" | "route" | "due_soon">,
): "not_consented" | "reaches" | "refuse" | "warn" {
  if (!reach.consented) return "not_consented";
  if (reach.route.length > 0) return "reaches";
  return reach.due_soon ? "refuse" : "warn";
}

/** What a group message did, as lib/data/messages.ts scheduleGroupMessage reports it (labelled). */
export interface GroupReportFields {
  scheduled: number;
  skipped: readonly string[];
  unreachableLater: readonly string[];
  /** Invited patients who have not consented yet: given nothing, whenever it is due. */
  notConsented: readonly string[];
  /** Patients at the cap on the clinic's messages per patient (an hour, 24 hours): given nothing. */
  capped?: readonly string[];
  refusalMinutes: number | null;
  /** Urgent: how many of those scheduled are inside their quiet hours when it is due. */
  night?: number;
}

const patients = (n: number) => `${n} patient${n === 1 ? "" : "s"}`;

/**
 * The sentences Compose shows after a group message that left patients out or reaches some only
 * if they come back: how many were scheduled, whom no channel reaches and why, and what lets a
 * message through. Each list is of labels (lib/patient-label.ts), shown on the page only.
 */
export function groupReport(report: GroupReportFields): {
  summary: string;
  skipped: string | null;
  later: string | null;
  notConsented: string | null;
  capped: string | null;
  /** What brings back a patient no channel reaches: only when the report names one (the
   * invited and the capped have their own sentence of what to do). */
  fix: string | null;
} {
  // The database's window (null only when no patient matched, and then nobody was skipped).
  const within = report.refusalMinutes === null ? "this soon" : `within ${report.refusalMinutes} minutes`;
  return {
    summary: `Scheduled for ${patients(report.scheduled)}.${report.night ? ` ${urgentNightNotice(report.night)}` : ""}`,
    skipped:
      report.skipped.length > 0
        ? `Not sent to ${patients(report.skipped.length)}: no channel reaches them now (each contact point is missing, opted out or blocked), and a message due ${within} would fail unsent.`
        : null,
    later:
      report.unreachableLater.length > 0
        ? `Scheduled, but no channel reaches ${report.unreachableLater.length === 1 ? "this patient" : `these ${patients(report.unreachableLater.length)}`} now: their message fails unsent when due unless they can be reached by then.`
        : null,
    notConsented:
      report.notConsented.length > 0
        ? `Not sent to ${patients(report.notConsented.length)} who ${report.notConsented.length === 1 ? "has" : "have"} not consented yet (invited): nothing but a service notice goes to them before they join. Send them an invite link (Make an invite link on their page) and send this message once they have joined.`
        : null,
    capped:
      report.capped && report.capped.length > 0
        ? `Not sent to ${patients(report.capped.length)} who already ${report.capped.length === 1 ? "has" : "have"} as many messages from your clinic as one patient may be given in an hour or in 24 hours (MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_HOUR and _DAY, or your clinic's own caps). Send them this message later, or cancel one of their pending messages to make room.`
        : null,
    fix:
      report.skipped.length + report.unreachableLater.length > 0
        ? "A patient who sent STOP gets messages again once they reply START; a blocked Telegram chat once they write to the bot; a patient without a contact point once they open an invite link (Make an invite link on their page); or add a contact point on their page."
        : null,
  };
}

/**
 * Why a group message may not be sent yet, or null: the clinician must have counted its
 * recipients for this search (the form's `group_confirmed`: the count they saw) and the group
 * must still have that many. A group with an empty search is every patient of the clinic, and
 * one click on Send now messaged them all, uncounted; a count seen before patients joined or
 * left is no longer what the message would do. An urgent one must also still reach as many inside
 * their quiet hours as the count said (`night`: the form's `group_confirmed_night` and the number
 * now): quiet hours do not hold an urgent message, so the count named them, and an hour later
 * that number is another.
 */
export function groupConfirmProblem(
  confirmed: unknown,
  total: number,
  night?: { confirmed: unknown; now: number },
): "group_uncounted" | "group_changed" | "group_night_changed" | null {
  if (typeof confirmed !== "string" || !/^\d{1,9}$/.test(confirmed)) return "group_uncounted";
  if (Number(confirmed) !== total) return "group_changed";
  if (night === undefined) return null;
  if (typeof night.confirmed !== "string" || !/^\d{1,9}$/.test(night.confirmed)) return "group_uncounted";
  return Number(night.confirmed) === night.now ? null : "group_night_changed";
}

/** The group's Send button, naming how many patients it goes to once they are counted. */
export function groupSendLabel(when: "now" | "later", total: number | null): string {
  const verb = when === "now" ? "Send now" : "Schedule";
  return total === null ? `${verb} to the group` : `${verb} to the group (${patients(total)})`;
}

/** A group's count as Compose shows it (lib/data/messages.ts GroupCount). */
export interface GroupCountFields {
  total: number;
  unreachable: number;
  invited: number;
  /** Of those given a message, how many are inside their quiet hours when it is due. */
  night?: number;
  /** How many are at the cap on the clinic's messages per patient: given nothing. */
  capped?: number;
}

/**
 * Compose's recipient count for a group: how many patients it goes to, how many of them no
 * channel reaches now (a message sent now leaves them out; a later one keeps them), how many
 * invited patients match but get nothing until they consent, how many are at the cap on the
 * clinic's messages per patient (given nothing), and, for an urgent message (`urgent`),
 * how many are inside their quiet hours when it is due: it reaches them at night (`nightCounted`
 * false: counted for another time than the one chosen now, so the sentence asks for a new count).
 */
export function groupCountText(count: GroupCountFields, urgent = false, nightCounted = true): string {
  const invited =
    count.invited > 0
      ? ` ${patients(count.invited)} who ${count.invited === 1 ? "has" : "have"} not consented yet (invited) ${count.invited === 1 ? "matches" : "match"} too: nothing goes to them before they join.`
      : "";
  const night = urgent && !nightCounted ? ` ${NIGHT_RECOUNT}` : nightText(count.night ?? 0, count.total, urgent);
  const capped = count.capped ?? 0;
  const atCap =
    capped > 0
      ? ` ${capped === 1 ? "1 of them already has" : `${capped} of them already have`} as many messages from your clinic as one patient may be given in an hour or in 24 hours: ${capped === 1 ? "that patient gets" : "they get"} nothing, and ${capped === 1 ? "is" : "are"} named after the send.`
      : "";
  return `${reachableText(count)}${night}${atCap}${invited}`;
}

/** After an urgent group message: how many get it inside their quiet hours (at night). */
export function urgentNightNotice(night: number): string {
  return `Urgent: ${night === 1 ? "1 of them is" : `${night} of them are`} inside their quiet hours and will get it at night.`;
}

// Urgent, counted for another time than the one chosen now: who is inside their quiet hours then
// is not known yet.
const NIGHT_RECOUNT =
  "Urgent: press Count recipients again to see how many are inside their quiet hours at the time chosen now.";

// Said for an urgent message only: another waits for the end of each patient's quiet hours, as
// the Urgent checkbox's hint says.
function nightText(night: number, total: number, urgent: boolean): string {
  if (!urgent || night === 0) return "";
  const who = night === total ? (night === 1 ? "This patient is" : `All ${night} are`) : `${night} of them ${night === 1 ? "is" : "are"}`;
  return ` Urgent: ${who} inside their quiet hours then and will get it at night. Untick Urgent to have theirs wait until their quiet hours end.`;
}

function reachableText(count: { total: number; unreachable: number; capped?: number }): string {
  // Some at the cap get nothing: the group "matches", it is not received by all of them.
  const total = (count.capped ?? 0) > 0 ? `${patients(count.total)} ${count.total === 1 ? "matches" : "match"}.` : `${patients(count.total)} will receive it.`;
  if (count.unreachable === 0) return total;
  const some = count.unreachable === count.total ? (count.total === 1 ? "them" : "any of them") : `${count.unreachable} of them`;
  return `${patients(count.total)} ${count.total === 1 ? "matches" : "match"}. No channel reaches ${some} now: a message sent now leaves ${count.unreachable === 1 ? "that patient" : "those patients"} out, a later one goes to them if they can be reached by then.`;
}
