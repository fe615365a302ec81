"use server";

import { redirect } from "next/navigation";
import { currentClinician, requireClinician } from "@/lib/auth";
import { SESSION_ENDED } from "@/lib/form-state";
import { asClinician, isUuid } from "@/lib/db";
import {
  PLATFORMS,
  cancelMessage,
  composeNames,
  composeReach,
  countGroup,
  type GroupCount,
  type GroupResult,
  scheduleGroupMessage,
  resendMessage,
  scheduleMessage,
  sendNow,
  type SendNowOutcome,
  textVisible,
} from "@/lib/data/messages";
import { resendError } from "@/lib/delivery";
import { templateVersions } from "@/lib/data/templates";
import { smsMaxSegments } from "@/lib/data/limits";
import { wallTimePast } from "@/lib/data/wall-time";
import { groupConfirmProblem, reachVerdict, templateChannelProblem, templateNameFromForm } from "@/lib/compose";
import { type LabelFields, distinctLabels } from "@/lib/patient-label";
import { SAMPLE_LONGEST, fillForPatient, templateMarkup, unknownPlaceholders } from "@/lib/placeholders";
import { lengthProblem, messageTooLong } from "@/lib/sms";
import { unclosedDirectionControl } from "@/lib/direction-controls";
import { PATIENT_CAP_STATE, erasedRefusal, sqlState } from "@/lib/errors";
import { typedText } from "@/lib/form-state";
import { controlCode, controlField } from "@/lib/control-characters";
import { isLocalDateTime, skippedByClockChange } from "@/lib/time";

/**
 * How many patients a group message to `search` would go to, how many no channel reaches, and how
 * many are inside their quiet hours when it is due: at `localTime` in the clinic's timezone, or
 * now (null, or a time the form would refuse anyway).
 */
export async function countGroupAction(search: string, platform: string, localTime: string | null = null): Promise<GroupCount | null> {
  // Null when the session has ended: the form stays as typed (a redirect to sign-in lost it).
  const clinician = await currentClinician();
  if (!clinician) return null;
  const channel = (PLATFORMS as readonly string[]).includes(platform) ? platform : "auto";
  const at = typeof localTime === "string" && isLocalDateTime(localTime) ? localTime : null;
  // Searched for without control characters, as the patients list's search (a NUL failed the
  // count: PostgreSQL's text holds none); the send refuses them, naming Recipients.
  const query = String(search).replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, 100);
  return asClinician(clinician.id, (tx) => countGroup(tx, query, channel, at, clinician.timezone));
}

/**
 * A refused compose: the error code (lib/errors.ts) shown next to the form, which keeps its input.
 * Or a group message that left some patients out, or reaches some only if they come back: the
 * form then shows what was done and whom it concerns (by name; never logged, never in a URL).
 */
export interface ComposeState {
  error?: string;
  /** With `error: "unreachable"`: the refusal window the database's reach rule applied. */
  refusalMinutes?: number;
  /**
   * With `error: "patient_cap"`: the database's reason (the cap per patient's trigger, migration
   * 20260101018340; the API's 429 says the same), naming the limit, its setting and from when.
   */
  capReason?: string;
  group?: GroupReport;
}

/** A group message's outcome as the form shows it (lib/data/messages.ts GroupResult). */
export interface GroupReport {
  scheduled: number;
  /** Patients given no message: due within the refusal window, and no channel reaches them. */
  skipped: string[];
  /** Patients given a message due later that no channel reaches now. */
  unreachableLater: string[];
  /** Patients given no message: invited, they have not consented yet. */
  notConsented: string[];
  /** Patients given no message: the clinic's messages to them are at the cap per patient. */
  capped: string[];
  refusalMinutes: number | null;
  /** Urgent: how many of those scheduled are inside their quiet hours when it is due. */
  night: number;
}

/**
 * Insert a pending message for one patient or a group; the Python worker sends them when due.
 *
 * Free text is stored with `{{ patient_name }}` and `{{ clinic_name }}` filled in (for one
 * patient here, as the preview shows it; for a group per patient in SQL); any other placeholder
 * is refused, since it would reach the patient as typed. With
 * `source=template` the row stores only the template's name (`template`, kind `free_text`, no
 * `message_content`): the worker renders the clinic's template per patient, in their language and
 * for the channel it goes out on. The template must be one of the clinic's free-text templates and
 * have a version for the chosen channel (or for any channel); otherwise nothing is inserted.
 * A refusal is returned, not redirected to, so the form keeps what the clinician wrote.
 *
 * Reach (docs/api.md "A patient no channel can reach", the API's rule): a patient no channel
 * reaches now is refused a message due within the refusal window and given a later one with a
 * notice; in a group such patients are left out, or kept for a later message, and named.
 */
export async function scheduleMessageAction(_previous: ComposeState, formData: FormData): Promise<ComposeState> {
  // The form's fields are its own state: they stay as typed while the page asks for the password.
  const clinician = await currentClinician();
  if (!clinician) return { error: SESSION_ENDED };
  const group = formData.get("audience") === "group";
  const patientId = String(formData.get("patient_id") ?? "");
  const platform = String(formData.get("platform") ?? "auto");
  const useTemplate = formData.get("source") === "template";
  const template = useTemplate ? templateNameFromForm(formData.get("template_name")) : null;
  const content = useTemplate ? null : typedText(formData.get("message_content")).trim();
  const when = String(formData.get("when") ?? "now");
  const localTime = when === "later" ? String(formData.get("local_time") ?? "") : null;
  const urgent = formData.get("urgent") === "on";
  const search = String(formData.get("group_query") ?? "").trim();
  const control = controlField(formData, ["message_content", "group_query", "template_name", "local_time"]);
  if (control !== null) return { error: controlCode(control) };

  if (useTemplate && template === null) return { error: "template_required" };
  if (localTime !== null && !isLocalDateTime(localTime)) return { error: "send_time" };
  if (localTime !== null && skippedByClockChange(localTime, clinician.timezone)) return { error: "send_time_skipped" };
  if (
    (group ? search.length > 100 : !isUuid(patientId)) ||
    !(PLATFORMS as readonly string[]).includes(platform) ||
    (content !== null && !content)
  ) {
    return { error: "invalid" };
  }
  // Named, not "invalid": the form no longer cuts a pasted text at the limit (the API's 422 too).
  if (content !== null && messageTooLong(content) !== null) return { error: "message_too_long" };
  if (content !== null && unknownPlaceholders(content).length > 0) return { error: "placeholder" };
  // As the API refuses a message's text (422): markup reaches the patient as typed.
  if (content !== null && templateMarkup(content) !== null) return { error: "markup" };
  if (content !== null && unclosedDirectionControl(content) !== null) return { error: "direction_message" };
  // Free text for a chosen channel must fit it: the worker fails a longer one unsent (WhatsApp
  // 1,600 characters, SMS as many segments as the service allows: MEDREMIND_SMS_MAX_SEGMENTS,
  // published in service_limits). A group's patient name is counted at its longest, one
  // patient's as it is filled in (below). With `auto` the channel is each patient's, and the
  // worker falls back past one it does not fit.
  const { maxSegments, visible, past } = await asClinician(clinician.id, async (tx) => ({
    maxSegments: await smsMaxSegments(tx),
    visible: content === null || (await textVisible(tx, content)),
    past: localTime !== null && (await wallTimePast(tx, localTime, clinician.timezone)),
  }));
  // A time already past would send it at once, not then (the API refuses it too: 422).
  if (past) return { error: "send_time_past" };
  // Only zero-width or other invisible characters: an empty SMS (the API refuses it too).
  if (!visible) return { error: "message_invisible" };
  const tooLong = (text: string) => platform !== "auto" && lengthProblem(text, platform, maxSegments) !== null;
  if (content !== null && group) {
    const longest = fillForPatient(content, SAMPLE_LONGEST.patient_name, clinician.organizationName);
    if (tooLong(longest)) return { error: "too_long" };
  }
  const input = { platform, content, template, localTime, timezone: clinician.timezone, urgent, createdBy: clinician.id };

  let outcome:
    | { error: string; refusalMinutes?: number }
    | { result: GroupResult; night: number }
    | { unreachable: boolean; atNight: boolean };
  try {
    outcome = await asClinician(clinician.id, async (tx) => {
      if (template !== null) {
        // Row-level security already hides other clinics' templates; templateVersions also asks
        // for the clinician's organization by name, so a name typed into a forged form that only
        // another clinic has is "not found" here, and the worker is never handed it.
        const versions = await templateVersions(tx, template);
        if (versions.length === 0) return { error: "template_not_found" };
        if (templateChannelProblem(versions, platform) !== null) return { error: "template_channel" };
      }
      if (group) {
        // Sent only as counted: the clinician saw how many patients it goes to, and still so.
        // Urgent: as many inside their quiet hours as the count named (they get it at night).
        const count = await countGroup(tx, search, platform, localTime, clinician.timezone);
        const night = urgent ? { confirmed: formData.get("group_confirmed_night"), now: count.night } : undefined;
        const problem = groupConfirmProblem(formData.get("group_confirmed"), count.total, night);
        if (problem !== null) return { error: problem };
        return { result: await scheduleGroupMessage(tx, search, input), night: night?.now ?? 0 };
      }
      // A patient no channel reaches now (SMS only, and they sent STOP): a message due within
      // the refusal window would fail at once in the worker, so it is refused, as the API
      // refuses it (409); a later one is kept with a notice (they may reply START meanwhile).
      const reach = await composeReach(tx, patientId, platform, localTime, clinician.timezone);
      // Not (or no longer) the clinic's patient: erased by a colleague meanwhile, or a forged id.
      if (reach === null) return { error: "patient_not_found" };
      const verdict = reachVerdict(reach);
      // Not consented yet (invited): the worker would cancel it ("no consent recorded"), whenever
      // due; the API refuses it first too (409, before reach).
      if (verdict === "not_consented") return { error: "not_consented" };
      if (verdict === "refuse") return { error: "unreachable", refusalMinutes: reach.refusal_minutes };
      let filled = content;
      if (content !== null) {
        const names = await composeNames(tx, patientId);
        if (names === null) return { error: "patient_not_found" };
        filled = fillForPatient(content, names.patient, names.clinic);
        if (tooLong(filled)) return { error: "too_long" };
      }
      await scheduleMessage(tx, { ...input, content: filled, patientId });
      return { unreachable: verdict === "warn", atNight: reach.at_night };
    });
  } catch (error) {
    // 42501: the row-level check refused a patient of another organization; 23503: no such patient.
    const state = sqlState(error);
    if (!group && (state === "42501" || state === "23503")) return { error: "patient_not_found" };
    // Erased (by a colleague, the API or the patient) after the checks above read them as active:
    // the database refuses their message (migration 20260101018810); a group's statement is one,
    // so nothing of it was sent.
    if (erasedRefusal(error)) return { error: group ? "patient_erased_group" : "patient_erased_meanwhile" };
    // The cap on a clinic's messages per patient (its trigger): one patient, the database's
    // reason; a group, a member a colleague's message took to the cap since the count (nothing
    // was sent: the statement is one).
    if (state === PATIENT_CAP_STATE) {
      if (group) return { error: "patient_cap_group" };
      return { error: "patient_cap", capReason: (error as { message?: string }).message };
    }
    throw error;
  }
  if ("error" in outcome) return outcome;
  if ("result" in outcome) {
    const { result } = outcome;
    if (
      result.skipped.length > 0 ||
      result.unreachable_later.length > 0 ||
      result.not_consented.length > 0 ||
      result.capped.length > 0
    ) {
      return {
        group: {
          scheduled: result.scheduled,
          skipped: labelsOf(result.skipped),
          unreachableLater: labelsOf(result.unreachable_later),
          notConsented: labelsOf(result.not_consented),
          capped: labelsOf(result.capped),
          refusalMinutes: result.refusal_minutes,
          night: outcome.night,
        },
      };
    }
    // An urgent one says again how many get it at night (as the count said before sending).
    redirect(`/messages?status=pending&scheduled=${result.scheduled}${outcome.night > 0 ? `&night=${outcome.night}` : ""}`);
  }
  // Said after the send (the clinician chose this patient and Urgent or not): no channel reaches
  // them, else their quiet hours hold its time (it waits for their end, or goes at night).
  const notice = outcome.unreachable ? "unreachable_later" : outcome.atNight ? (urgent ? "quiet_urgent" : "quiet_held") : null;
  redirect(`/patients/${patientId}${notice ? `?notice=${notice}` : ""}`);
}

function messageId(formData: FormData): string {
  const id = String(formData.get("id") ?? "");
  // Not an id at all (a forged form): said as any id not among the clinic's messages.
  if (!isUuid(id)) redirect("/messages?error=message_not_found");
  return id;
}

function backTo(formData: FormData): string {
  // The patient's page, when the form was on it (its id checked), else the messages list.
  const patient = String(formData.get("patient") ?? "");
  if (patient) return isUuid(patient) ? `/patients/${patient}` : "/messages";
  const status = String(formData.get("filter") ?? "");
  return status ? `/messages?status=${encodeURIComponent(status)}` : "/messages";
}

function withParam(url: string, name: string, value: string): string {
  return `${url}${url.includes("?") ? "&" : "?"}${name}=${encodeURIComponent(value)}`;
}

/** Cancel a pending message (or one claimed ahead of its time, until a second before it). */
export async function cancelMessageAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = messageId(formData);
  const outcome = await asClinician(clinician.id, (tx) => cancelMessage(tx, id));
  const back = backTo(formData);
  // Said: the row just leaves the pending list, as a message that went does.
  if (outcome === "cancelled") redirect(withParam(back, "cancelled", "1"));
  const errors = { not_found: "message_not_found", being_sent: "being_sent", not_pending: "not_pending" } as const;
  redirect(withParam(back, "error", errors[outcome]));
}

const SEND_NOW_ERRORS: Record<Exclude<SendNowOutcome, "sent">, string> = {
  not_pending: "not_pending",
  not_found: "message_not_found",
  unreachable: "unreachable_now",
  dose_not_due: "dose_not_due",
  moved: "send_now_moved",
};

/**
 * Make a pending message due now, as the clinician confirmed it (`confirmed_time`: the time the
 * question named). Not a medication reminder before its dose's time, nor a message no channel
 * reaches now (it would fail); lib/send-now.ts.
 */
export async function sendNowAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = messageId(formData);
  const confirmed = Number(formData.get("confirmed_time"));
  const outcome = await asClinician(clinician.id, (tx) => sendNow(tx, id, Number.isSafeInteger(confirmed) ? confirmed : null));
  const back = backTo(formData);
  redirect(outcome === "sent" ? back : withParam(back, "error", SEND_NOW_ERRORS[outcome]));
}

/**
 * Re-send a failed message: a new pending copy due now (the worker sends it on the patient's
 * channels afresh); the failed message and its delivery history stay as they were. Audited.
 */
export async function resendMessageAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = messageId(formData);
  const { outcome, demoted } = await asClinician(clinician.id, (tx) => resendMessage(tx, id));
  const back = backTo(formData);
  const error = resendError(outcome);
  redirect(error === null ? withParam(back, "resent", demoted ? "share" : "1") : withParam(back, "error", error));
}

/** The patients' labels in order, homonyms told apart (lib/patient-label.ts distinctLabels). */
function labelsOf(patients: LabelFields[]): string[] {
  const labels = distinctLabels(patients);
  return patients.map((p) => labels.get(p.id) ?? "");
}
