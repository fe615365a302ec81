"use server";

import { redirect } from "next/navigation";
import { currentClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { composeNames, editMessage, messageReachNow, messageToEdit, quietAtItsTime, textVisible } from "@/lib/data/messages";
import { smsMaxSegments } from "@/lib/data/limits";
import { wallTimePast } from "@/lib/data/wall-time";
import { type FormState, formValues, sessionEnded, typedText } from "@/lib/form-state";
import { controlCode, controlField } from "@/lib/control-characters";
import { unclosedDirectionControl } from "@/lib/direction-controls";
import { fillForPatient, templateMarkup, unknownPlaceholders } from "@/lib/placeholders";
import { lengthProblem, messageTooLong } from "@/lib/sms";
import { isLocalDateTime, skippedByClockChange } from "@/lib/time";

/** The fields of the edit form (./page.tsx). */
const EDIT_FIELDS = ["message_content", "local_time"] as const;

/** Thrown out of the edit's transaction to roll the edit back: no channel reaches the patient. */
class EditUnreachable extends Error {
  constructor(readonly refusalMinutes: number) {
    super("no channel reaches the patient");
  }
}

/**
 * Change the text and time of a message the clinic wrote (public.edit_scheduled_message, the
 * API's PATCH /messages/{id} too): a pending one, or one a worker claimed ahead of its time until
 * a second before it; the worker then sends only the new version, at the new time. The text is
 * held to Compose's rules ({{ patient_name }} and {{ clinic_name }} filled in, the channel's
 * length); the time to the same as Compose's (a real time ahead in the clinic's timezone), and
 * to Compose's reach rule at the new time (the patient may have sent STOP since): no channel of
 * the message reaches them and it is due within the refusal window, refused naming the time;
 * later, changed with a notice. The notice after it also says when the patient's quiet hours
 * hold the new time (lib/errors.ts editedNotice). A refusal comes back to the form naming the
 * field, everything as typed; nothing is changed.
 */
export async function editMessageAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = formValues(formData, EDIT_FIELDS);
  const clinician = await currentClinician();
  if (!clinician) return sessionEnded(values);
  const refuse = (error: string, field?: string): FormState => ({ error, field, values });
  const id = String(formData.get("id") ?? "");
  if (!isUuid(id)) return refuse("message_not_found");
  const control = controlField(formData, EDIT_FIELDS);
  if (control !== null) return refuse(controlCode(control), control);
  const content = typedText(formData.get("message_content")).trim();
  const localTime = values.local_time;
  if (!content) return refuse("invalid", "message_content");
  if (messageTooLong(content) !== null) return refuse("message_too_long", "message_content");
  if (unknownPlaceholders(content).length > 0) return refuse("placeholder", "message_content");
  if (templateMarkup(content) !== null) return refuse("markup", "message_content");
  if (unclosedDirectionControl(content) !== null) return refuse("direction_message", "message_content");
  if (!isLocalDateTime(localTime)) return refuse("send_time", "local_time");
  if (skippedByClockChange(localTime, clinician.timezone)) return refuse("send_time_skipped", "local_time");
  let outcome;
  try {
    outcome = await editInTransaction(clinician, id, content, localTime);
  } catch (error) {
    if (!(error instanceof EditUnreachable)) throw error;
    return { error: "edit_unreachable", field: "local_time", values, refusalMinutes: error.refusalMinutes };
  }
  if (outcome === "edited" || outcome === "quiet_held" || outcome === "quiet_urgent" || outcome === "unreachable") {
    redirect(`/messages?edited=${outcome === "edited" ? "1" : outcome}`);
  }
  const fields: Record<string, string> = {
    message_invisible: "message_content",
    too_long: "message_content",
    edit_time_past: "local_time",
  };
  const errors: Record<string, string> = { not_found: "message_not_found", being_sent: "edit_being_sent", not_pending: "not_pending" };
  return refuse(errors[outcome] ?? outcome, fields[outcome]);
}

/** The edit's checks that read the database, and the edit, in one transaction. */
async function editInTransaction(
  clinician: { id: string; timezone: string },
  id: string,
  content: string,
  localTime: string,
): Promise<string> {
  return asClinician(clinician.id, async (tx) => {
    const message = await messageToEdit(tx, id);
    if (message === null) return "not_found";
    if (!(await textVisible(tx, content))) return "message_invisible";
    if (await wallTimePast(tx, localTime, clinician.timezone)) return "edit_time_past";
    const names = await composeNames(tx, message.patient_id);
    if (names === null) return "not_found";
    const filled = fillForPatient(content, names.patient, names.clinic);
    const channel = message.platform;
    if (channel !== "auto" && lengthProblem(filled, channel, await smsMaxSegments(tx)) !== null) return "too_long";
    const edited = await editMessage(tx, id, filled, localTime, clinician.timezone);
    if (edited !== "edited") return edited;
    // After the edit, which decides whether it is still time: Compose's reach rule at the new
    // time (reachVerdict without consent, which the message had when it was written).
    const reach = await messageReachNow(tx, id);
    if (reach !== null && reach.route.length === 0) {
      if (reach.due_soon) throw new EditUnreachable(reach.refusal_minutes);
      return "unreachable";
    }
    // Said with the notice: a time inside the patient's quiet hours is held to their end (or,
    // urgent, reaches them at night), as Compose says; "at its time" was wrong then.
    return (await quietAtItsTime(tx, id)) ?? "edited";
  });
}
