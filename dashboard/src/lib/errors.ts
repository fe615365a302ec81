import { controlMessage } from "./control-characters";

/** Messages for the `?error=` codes that server actions redirect with. */
const MESSAGES: Record<string, string> = {
  invalid: "Something in the form is missing or not valid: check each field and try again.",
  duplicate: "External id: a patient with that external id already exists in your clinic.",
  timezone:
    "Timezone: not a time zone the service knows. Use an IANA name such as Europe/Madrid, America/New_York or UTC.",
  timezone_fixed_offset:
    "Timezone: Etc/GMT+N and Etc/GMT-N are fixed offsets that count the other way round (Etc/GMT+5 is UTC-05:00, five hours behind UTC) and keep no summer time. Use the zone of the place, such as Europe/Berlin or America/Bogota.",
  timezone_fixed_region:
    "Timezone: EST and MST are fixed offsets with no summer time (EST is UTC-05:00 all year, while New York changes its clocks). Use the place's zone: America/New_York or America/Denver (America/Panama or America/Phoenix for UTC-05:00 or UTC-07:00 all year).",
  name_required: "Name: enter the patient's name.",
  name_invisible:
    "Name: it shows nothing, only spaces and invisible characters (zero-width spaces or joiners, direction marks, blank fillers such as U+3164) or accents with no letter. Type the name in letters, for example Ana.",
  channel: "Channel: choose Telegram, WhatsApp, SMS or E-mail.",
  too_long_external_id: "External id: at most 100 characters.",
  external_id_invisible:
    "External id: it shows nothing, only spaces and invisible characters (zero-width spaces or joiners, direction marks). Type the id as your clinic's system writes it, or leave it empty.",
  clinic_name_required: "Clinic name: enter the clinic's name.",
  settings_offsets:
    "Appointment reminders: type each time with its unit, hours (24h), minutes (30m) or days (2d), from 1 minute to 30 days, at most 10; for example 24h 2h for a day and two hours before. A number without a unit is not taken (it could be minutes or hours). Leave it empty for no reminders.",
  quiet_hours: "Default quiet hours: enter a start and an end time, for example 21:00 and 08:00.",
  quiet_hours_no_length:
    "Default quiet hours: the start and the end are the same time, a window of no length (it would hold nothing back). Enter two different times, for example 21:00 and 08:00, or midnight to midnight (00:00, 12:00 AM) for no quiet hours.",
  // The New patient form's address, per channel (lib/contact.ts addressError).
  address_sms:
    "Address: SMS needs a mobile phone number valid for its country, in +E.164 form: a plus, the country code and the number, for example +447911123456.",
  address_whatsapp:
    "Address: WhatsApp needs the phone number the patient uses WhatsApp on, valid for its country, in +E.164 form: a plus, the country code and the number, for example +447911123456.",
  address_email: "Address: E-mail needs an e-mail address, for example ana@example.org.",
  // An address another patient record holds (lib/address-held.ts): nothing about that record.
  address_held_phone:
    "Address: this number cannot be used for this patient. It is already registered in MedRemind to another record, and one number reaches one patient, so nothing would be sent to it for this one. Nothing was created. Ask the patient for another number or an e-mail address, or choose Telegram and give them an invite link from their page. If it is their own number and they already use MedRemind with it, tick \u201cRegister without it\u201d below: the record is created without it and, from the chat they use, they can join your clinic with an invite link, which brings the number to this record.",
  address_held_email:
    "Address: this e-mail address cannot be used for this patient. It is already registered in MedRemind to another record, and one e-mail address reaches one patient, so nothing would be sent to it for this one. Nothing was created. Ask the patient for another e-mail address or a phone number, or choose Telegram and give them an invite link from their page. If it is their own e-mail address and they already use MedRemind with it, tick \u201cRegister without it\u201d below: the record is created without it and, from the chat they use, they can join your clinic with an invite link, which brings the e-mail address to this record.",
  address_held_here:
    "Address: this is already the address of another patient of your clinic (open their record below), and one number or e-mail address reaches one patient. Nothing was created. If it is the same person, use that record; otherwise enter this patient's own number or e-mail address, or choose Telegram and give them an invite link.",
  telegram_typed:
    "Telegram: a chat id cannot be typed in (a wrong one would send the patient's reminders to a stranger). Create the patient without one, then press Make an invite link on their page and have them open it in Telegram; their chat is then linked.",
  not_found: "That item was not found.",
  medication_not_found:
    "That medicine is not one of this patient's (it may have been deleted): reload the page and try again.",
  admin_only:
    "Only an admin of your clinic can change its settings and templates. Ask an admin to make the change, or to make you an admin.",
  placeholder:
    "Message: only {{ patient_name }} and {{ clinic_name }} are filled in; remove or correct the other {{ ... }} placeholders.",
  markup:
    "Message: it holds template markup ({% ... %}, or {{ }} around anything but patient_name or clinic_name, such as WhatsApp's {{1}}), which would reach the patient as typed, braces and all. Write the words themselves, or save a template (Templates) and send that.",
  message_invisible:
    "Message: it shows nothing, only spaces and invisible characters (zero-width spaces or joiners, direction marks, blank fillers such as U+3164). Type the message in words.",
  preferences_changed:
    "Message preferences: nothing was saved. What you changed had been changed since this page was loaded (in another tab, or by a colleague); the page now shows the preferences as they are. Make your change again if it is still needed.",
  session_ended:
    "Nothing was saved: your session has ended (12 hours passed, or you signed out in another tab). Sign in again in the box at the top of the page, then press the button again: what you typed is still here.",
  details_changed:
    "Details: nothing was saved. What you changed had been changed since this page was loaded (in another tab, or by a colleague); the page now shows the details as they are. Make your change again if it is still needed.",
  confirm_erasure: "To erase this patient, tick the box that confirms it: erasure cannot be undone.",
  too_long:
    "Message: too long for the chosen channel (WhatsApp takes 1,600 characters; SMS as many segments as the service allows, MEDREMIND_SMS_MAX_SEGMENTS). The table under the message shows each channel's length: shorten it, or choose another channel.",
  message_too_long:
    "Message: longer than a message can be (4,096 characters at most); nothing was sent. Shorten it (the line under the message counts it), or send it as two messages.",
  message_not_found:
    "That message was not found among your clinic's messages: it may have been erased with its patient. Reload the page to see the list as it is now.",
  not_pending: "That message is no longer pending, so it cannot be changed.",
  edit_being_sent:
    "Not changed: that message's time has come and it is being sent as it was (a message can be changed until a second before its time). Reload the messages to see whether it went; send another message if it is still needed.",
  being_sent:
    "Not cancelled: that message's time has come and it is being sent (a message can be cancelled until a second before its time). Reload the page to see whether it went.",
  dose_not_due:
    "Not sent: this is a dose's reminder (\"Time for your dose\"), and its dose is not due yet. Sent now, the patient would take the dose early. It goes at its time; to tell the patient something before, write them a message (Compose).",
  send_now_moved: "Not sent: that message's time has changed since the page showed it. Look at its new time and press Send now again if it should still go now.",
  dose_closed:
    "Not re-sent: this reminder is about a dose that was answered, missed or cancelled since; a copy would ask about it again. To tell the patient something, write them a message (Compose).",
  too_late:
    "Not re-sent: this reminder's dose time has passed (a reminder is worth sending for two hours, a follow-up for one). A copy now would tell the patient to take the dose that late, close to their next one. To tell the patient something, write them a message (Compose).",
  not_failed: "Only a failed message can be re-sent; this one has not failed.",
  already_resent: "That message was re-sent already: its copy is in the list.",
  patient_erased: "That patient's data was erased: nothing is sent to them any more.",
  appointment_not_found:
    "That appointment was not found among your clinic's appointments: it may have been erased with its patient. Reload the page to see the list as it is now.",
  not_changed: "Nothing was changed: the item is already closed.",
  waitlist_entry_not_found:
    "That entry was not found on your clinic's waitlist: it may have been erased with its patient. Reload the page to see the list as it is now.",
  // The cap on a clinic's messages per patient (migration 20260101018340) without the database's
  // reason (see capMessage), and a group that a colleague's message changed meanwhile.
  patient_cap:
    "Not sent: this patient already has as many messages from your clinic as one patient may be given in an hour or in 24 hours (MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_HOUR and _DAY, or your clinic's own caps). Nothing was created. Send it later, or cancel one of their pending messages (Messages) to make room.",
  patient_cap_group:
    "Nothing was sent: while it was being sent, another message (a colleague's, or your clinic's system's) brought a patient of this group to the most messages one patient may be given in an hour or in 24 hours. Count the group again and send: that patient is then named and left out.",
  // A patient erased (by a colleague, the API or the patient themselves) between the page and the
  // form's save: the database refuses their rows (migration 20260101018950, erasedRefusal).
  patient_erased_meanwhile:
    "Nothing was saved: this patient was erased while the form was open (by a colleague, through your clinic's system, or by the patient), and nothing can be added for them any more. Reload the page to see your patients as they are now.",
  patient_erased_group:
    "Nothing was sent: a patient of this group was erased while it was being sent (by a colleague, through your clinic's system, or by the patient). Count the group again and send: it no longer includes them.",
  waitlist_closed:
    "Nothing was changed: that patient is no longer waiting (they booked a freed slot, or were removed already). Reload the page to see the list as it is now.",
  already_waiting:
    "Patient: already on the waitlist (in the list below). To change their days, hours or note, remove them and add them again.",
  waitlist_not_consented:
    "Patient: this patient has not consented yet (invited), so no freed slot can be offered to them (and accepting one would book an appointment they would hear nothing about). Send them an invite link (Make an invite link on their page) and put them on the waitlist once they have joined.",
  waitlist_not_saved:
    "Not saved: the database refused the entry for a reason this form does not know. Nothing was added; try again, and if it happens again tell whoever runs the service (the dashboard's log names the error).",
  note_control:
    "Note: it holds a control character (such as NUL, often pasted from another program), which cannot be stored. Remove it, or type the note again.",
  patient_required: "Patient: choose a patient.",
  waitlist_hours:
    "Until: type From and Until as two different times (HH:MM), for example From 09:00 Until 12:00, or From 23:30 Until 01:00 for a night (Until before From is the next day); the same time for both would be no time at all or the whole day. Leave both empty for any hour.",
  too_long_note: "Note: at most 200 characters.",
  // A direction control left open on its line (lib/direction-controls.ts), as the API refuses it.
  direction_message:
    "Message: an invisible direction control (U+202A-U+202E or U+2066-U+2068, often pasted with right-to-left text) is left open on its line, so the rest of that line would reach the patient reversed. Remove it, or close it on the same line (U+202C after U+202A-U+202E, U+2069 after U+2066-U+2068).",
  direction_note:
    "Note: an invisible direction control (U+202A-U+202E or U+2066-U+2068) is left open, so the rest of the note would read reversed. Remove it, or close it (U+202C after U+202A-U+202E, U+2069 after U+2066-U+2068).",
  direction_external_id:
    "External id: an invisible direction control (U+202A-U+202E or U+2066-U+2068) is left open, so the id would read reversed. Remove it (type the id again), or close it (U+202C after U+202A-U+202E, U+2069 after U+2066-U+2068).",
  // Texts filled into reminders: at most what the template length check assumes (./limits.ts).
  too_long_patient_name: "Name: at most 50 characters (it is filled into reminders).",
  too_long_clinic_name: "Clinic name: at most 60 characters (it is filled into reminders).",
  too_long_location: "Location: at most 80 characters (it is filled into reminders).",
  too_long_clinician_name: "Clinician: at most 50 characters (it is filled into reminders).",
  offsets:
    "Appointment reminder times: type 1 to 6 times before the appointment, each with its unit, hours (24h), minutes (30m) or days (2d), from 5 minutes to 14 days; for example 24h 2h. A number without a unit is not taken (it could be minutes or hours). Leave it empty for the clinic's times.",
  // Appointments: each names its field and what it takes (lib/appointment-form.ts).
  appointment_same_time:
    "Starts at: this patient already has an appointment at that time, in the list below. Nothing was booked: a second one would send the patient two confirmations and every reminder twice. To change that appointment, use its Move; to replace it, cancel it first.",
  reschedule_same_time:
    "New time: the patient already has another appointment at that time (outlined in the list). Nothing was moved: the patient would be reminded of both visits. Choose another time, or cancel one of them.",
  appointment_time:
    "Starts at: enter the appointment's date and time, a real calendar day in the years 1970 to 9998, for example 24 December 2026 at 09:30 (in the clinic's timezone).",
  appointment_duration: "Minutes: how long the appointment lasts, a whole number from 1 to 1,440 (24 hours), for example 30.",
  patient_not_found:
    "Patient: not one of your clinic's patients (the patient may have been erased): choose a patient from the list.",
  appointment_time_skipped:
    "Starts at: that time does not exist on that day in the clinic's timezone (the clocks go forward an hour for summer time), so the appointment would be booked an hour later than written. Choose a time after the change, for example an hour later.",
  reschedule_time_skipped:
    "New time: that time does not exist on that day in the clinic's timezone (the clocks go forward an hour for summer time), so the appointment would move an hour later than written. Choose a time after the change, for example an hour later.",
  send_time_skipped:
    "Date and time: that time does not exist on that day in the clinic's timezone (the clocks go forward an hour for summer time), so the message would go out an hour later than written. Choose a time after the change, for example an hour later.",
  reschedule_time:
    "New time: enter the new date and time, a real calendar day in the years 1970 to 9998, for example 24 December 2026 at 09:30 (in the clinic's timezone).",
  outcome: "Outcome: choose Attended or No-show.",
  send_time_past:
    "Date and time: that time has passed in the clinic's timezone, so the message would go out at once, not then. Check the date (for tomorrow morning, tomorrow's date), or choose Now.",
  appointment_time_past:
    "Starts at: that time has passed in the clinic's timezone. Check the date: an appointment is booked ahead.",
  reschedule_time_past:
    "New time: that time has passed in the clinic's timezone. Check the date: an appointment is moved to a time ahead.",
  edit_time_past:
    "Date and time: that time has passed in the clinic's timezone, so the message would go out at once, not then. Check the date (for tomorrow morning, tomorrow's date); to send it now, use Send now in the list.",
  send_time:
    "Date and time: enter the date and time to send, a real calendar day in the years 1970 to 9998, for example 24 December 2026 at 09:30 (in the clinic's timezone), or choose Now.",
  // Compose from a template: each names the Template field, which the form marks invalid.
  template_required: "Template: choose one of your clinic's templates, or write free text.",
  template_not_found: "Template: that template is not one of your clinic's templates (it may have been deleted or renamed).",
  // Another clinic's template id (a forged form) reads as one that does not exist.
  template_version_not_found:
    "That template version was not found among your clinic's templates: it may have been deleted already (in another tab, or by a colleague). Reload the page to see the list as it is now.",
  template_in_use:
    "That is the template's last version and messages waiting to be sent use it: cancel them (Messages page) or save another version first.",
  // Rename (public.rename_template, migration 20260101019450): every version of a template at once.
  template_new_name: "New name: type 1 to 100 characters on one line. Nothing was renamed.",
  template_name_taken:
    "New name: another template of your clinic has this name, and renaming would mix the two templates' versions. Nothing was renamed. Choose another name, or delete that template's versions first.",
  template_not_renamed:
    "That template was not found among your clinic's templates: it may have been renamed or deleted already (in another tab, or by a colleague). Nothing was renamed. Reload the page to see the list as it is now.",
  // The API's 409 for a patient who has not consented (medremind/web/api_v1/message_reach.py
  // no_consent): refused whenever the message is due, since the worker cancels it unsent.
  // A group message sent uncounted, or counted before the group changed (lib/compose.ts).
  group_uncounted:
    "Recipients: press Count recipients and check how many patients this message goes to, then send. An empty search means every patient of the clinic.",
  group_changed:
    "Recipients: the group has changed since you counted it (patients joined, left or changed their consent). Press Count recipients again, check the number, then send.",
  group_night_changed:
    "Recipients: it is Urgent, and the number of patients inside their quiet hours when it is due has changed since you counted (the time moved into or out of their night). Press Count recipients again, check who will get it at night, then send.",
  not_consented:
    "Patient: this patient has not consented yet (invited): nothing but a service notice goes to them before they join. Send them an invite link (Make an invite link on their page) and send this message once they have joined.",
  appointment_not_consented:
    "Patient: this patient has not consented yet (invited), so the appointment's confirmation and reminders would not reach them. Send them an invite link (Make an invite link on their page) and book the appointment once they have joined.",
  resend_unreachable:
    "Not re-sent: no channel reaches this patient now (each contact point is missing, opted out or blocked), so a copy, due at once, would fail again. A patient who sent STOP gets messages again once they reply START; a blocked Telegram chat once they write to the bot; a patient without a contact point once they open an invite link (Make an invite link on their page); or add a contact point on their page, then re-send.",
  unreachable_now:
    "Not sent now: no channel reaches this patient now (each contact point is missing, opted out or blocked), so the message would fail unsent. It stays scheduled at its time. A patient who sent STOP gets messages again once they reply START; a blocked Telegram chat once they write to the bot; a patient without a contact point once they open an invite link (Make an invite link on their page); or add a contact point on their page.",
  template_channel:
    "Template: it has no version for the chosen channel. Choose a channel it has, or save a version for any channel on the Templates page.",
};

/** Notices (`?notice=`) after an action that succeeded with something to know. */
const NOTICES: Record<string, string> = {
  quiet_held:
    "Scheduled, but this patient is inside their quiet hours at that time: the message waits until their quiet hours end (its time is under Messages, \"deferred to the end of quiet hours\" once the worker holds it). For a message that must reach them at night, tick Urgent.",
  quiet_urgent: "Sent as Urgent inside this patient's quiet hours: they get it at night, as you chose.",
  unreachable_later:
    "Scheduled, but no channel reaches this patient now (each contact point is missing, opted out or blocked): the message fails unsent when due unless they can be reached by then. A patient who sent STOP gets messages again once they reply START; a blocked Telegram chat once they write to the bot; a patient without a contact point once they open an invite link (Make an invite link on their page). Or add a contact point, or cancel the message on the Scheduled messages page.",
};

/** A readable notice for a `?notice=` code, or null (unknown codes show nothing). */
export function noticeMessage(code: string | string[] | undefined): string | null {
  return typeof code === "string" ? (NOTICES[code] ?? null) : null;
}

/**
 * The notice after an edit of a message (`/messages?edited=`): "1" it goes at its new time;
 * "quiet_held" the patient's quiet hours hold that time, so it waits for their end (it said "at
 * its time" and the worker deferred it); "quiet_urgent" it is urgent and reaches them at night;
 * "unreachable" no channel reaches the patient now (Compose's notice: it fails unless they are
 * back by its time; said before the quiet hours, which matter only if it can go at all).
 * Null for anything else. An edit cannot make a message urgent: a message that must reach the
 * patient at night is composed again as Urgent.
 */
export function editedNotice(code: string | string[] | undefined): string | null {
  if (code === "1") return "Changed: the message goes as it is now, at its time (never the earlier version).";
  if (code === "quiet_held") {
    return "Changed, but this patient is inside their quiet hours at that time: the message, as it is now, waits until their quiet hours end (\"deferred to the end of quiet hours\" once the worker holds it). For a message that must reach them at night, cancel it and compose it again as Urgent.";
  }
  if (code === "quiet_urgent") {
    return "Changed: the message goes as it is now, at its time, inside this patient's quiet hours: it is urgent, so they get it at night.";
  }
  if (code === "unreachable") {
    return "Changed, but no channel reaches this patient now (each contact point is missing, opted out or blocked): the message fails unsent when due unless they can be reached by then. A patient who sent STOP gets messages again once they reply START; a blocked Telegram chat once they write to the bot; a patient without a contact point once they open an invite link (Make an invite link on their page). Or add a contact point, or cancel the message.";
  }
  return null;
}

/** Error codes about the Template field of Compose (the field is marked invalid). */
export const TEMPLATE_ERRORS: readonly string[] = ["template_required", "template_not_found", "template_channel"];

/**
 * Compose's refusal of a message no channel of the patient reaches, due within the refusal
 * window: `refusalMinutes` is the database's (`public.unreachable_refusal_minutes()`, migration
 * 20260101015200, through `public.message_reach`), the value the API's 409 names too; unknown,
 * the text names no number.
 */
export function unreachableMessage(refusalMinutes?: number): string {
  const within = refusalMinutes === undefined ? "this soon" : `within ${refusalMinutes} minutes`;
  const ahead = refusalMinutes === undefined ? "later" : `at least ${refusalMinutes} minutes ahead`;
  return `Channel: no channel reaches this patient now (each contact point is missing, opted out or blocked), so a message due ${within} would fail unsent. A patient who sent STOP gets messages again once they reply START; a blocked Telegram chat once they write to the bot; a patient without a contact point once they open an invite link (Make an invite link on their page). Or choose a channel their page lists as usable, add a contact point there, or schedule it ${ahead}: it is then kept, and goes out if they can be reached by then.`;
}

/**
 * The edit's refusal of a message no channel of the patient reaches any more (they sent STOP
 * since it was written), due within the refusal window after the change: Compose's rule
 * ({@link unreachableMessage}), said of the time, the one field of the edit that can fix it.
 */
export function editUnreachableMessage(refusalMinutes?: number): string {
  const within = refusalMinutes === undefined ? "this soon" : `within ${refusalMinutes} minutes`;
  const ahead = refusalMinutes === undefined ? "later" : `at least ${refusalMinutes} minutes ahead`;
  return `Date and time: no channel reaches this patient now (each contact point is missing, opted out or blocked), so the message, due ${within}, would fail unsent. Nothing was changed. A patient who sent STOP gets messages again once they reply START; a blocked Telegram chat once they write to the bot; a patient without a contact point once they open an invite link (Make an invite link on their page). Or add a contact point on their page, or move it ${ahead}: it is then kept, and goes out if they can be reached by then.`;
}

/** SQLSTATE of the cap on a clinic's messages per patient (its trigger, migration 20260101018340). */
export const PATIENT_CAP_STATE = "MR429";

/**
 * Compose's refusal past the cap on a clinic's messages per patient: the database's reason (the
 * API's 429 says the same), which names the limit, the setting that sets it and from when another
 * may be created, and what the clinician can do now.
 */
export function capMessage(reason: string): string {
  const sentence = reason.charAt(0).toUpperCase() + reason.slice(1);
  return `Not sent: ${sentence}. Send it later, or cancel one of their pending messages (Messages) to make room.`;
}

/**
 * A readable message for an error code, or null. `refusalMinutes`: the refusal window of the
 * reach rule, for the codes `unreachable` and `edit_unreachable` (see {@link unreachableMessage});
 * `capReason`: the
 * database's reason, for the code `patient_cap` (see {@link capMessage}).
 */
export function errorMessage(
  code: string | string[] | undefined,
  refusalMinutes?: number,
  capReason?: string,
): string | null {
  if (typeof code !== "string") return null;
  if (code === "unreachable") return unreachableMessage(refusalMinutes);
  if (code === "edit_unreachable") return editUnreachableMessage(refusalMinutes);
  if (code === "patient_cap" && capReason) return capMessage(capReason);
  const control = controlMessage(code);
  if (control !== null) return control;
  return MESSAGES[code] ?? "Something went wrong. Please try again.";
}

/** SQLSTATE of the database's refusal of a change only a clinic's admin may make. */
export const ADMIN_ONLY_STATE = "42501";

/** The PostgreSQL SQLSTATE of a driver error, if any. */
export function sqlState(error: unknown): string | null {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === "string" ? code : null;
  }
  return null;
}

/** The constraint (or unique index) a PostgreSQL error names (postgres.js `constraint_name`), or null. */
export function constraintName(error: unknown): string | null {
  if (typeof error === "object" && error !== null && "constraint_name" in error) {
    const name = (error as { constraint_name: unknown }).constraint_name;
    return typeof name === "string" ? name : null;
  }
  return null;
}

/**
 * The form's error code when the database refused a patient's name that shows nothing, else
 * null. The rule is the database's (migration 20260101015500, the one core/person_names.py
 * states for the bot and the API), not copied here: its trigger also removes direction
 * overrides and isolates from a visible name.
 */
export function nameRefusal(error: unknown): string | null {
  if (sqlState(error) !== "23514") return null;
  const constraint = (error as { constraint_name?: unknown }).constraint_name;
  return constraint === "patients_display_name_visible" ? "name_invisible" : null;
}

/**
 * The form's error code when the database refused an external id that shows nothing (migration
 * 20260101018800, the rule the API's `external_id` follows), else null.
 */
export function externalIdRefusal(error: unknown): string | null {
  if (sqlState(error) !== "23514") return null;
  return constraintName(error) === "patients_external_id_visible" ? "external_id_invisible" : null;
}

/**
 * Whether the database refused a row for a patient who was erased meanwhile (migration
 * 20260101018950: check violation `<table>_patient_erased`, by whichever table the form wrote;
 * migration 20260101018810 names a clinic's message's the same way). The form then says so
 * (`patient_erased_meanwhile`) instead of an error page.
 */
export function erasedRefusal(error: unknown): boolean {
  return sqlState(error) === "23514" && (constraintName(error)?.endsWith("_patient_erased") ?? false);
}

/**
 * The form's error code when the database refused a one-line name (a clinic's, a template's, an
 * appointment's place or clinician) holding a line break or control character, else null. The
 * rule holds for every writer (migration 20260101019020: check violation
 * `<table>_<column>_one_line`); a form checks it first (controlField), so this is the backstop of
 * a path that did not. The code is `control_<column>`, which {@link controlMessage} words with
 * the field's label: the forms name their fields as the columns (name, location, clinician_name).
 */
export function oneLineRefusal(error: unknown): string | null {
  if (sqlState(error) !== "23514") return null;
  const constraint = constraintName(error);
  const table = typeof error === "object" && error !== null ? (error as { table_name?: unknown }).table_name : null;
  if (typeof table !== "string" || !constraint?.startsWith(`${table}_`) || !constraint.endsWith("_one_line")) return null;
  const column = constraint.slice(table.length + 1, -"_one_line".length);
  return column ? `control_${column}` : null;
}

/**
 * The templates page's error code when the database refused a write of a template's name, else
 * null (an error the page does not know: raise it). A name holding a line break or control
 * character ({@link oneLineRefusal}, message_templates_name_one_line): the forms check it first,
 * so this is the backstop of a forged or raced submit, worded for the form's own field
 * (`field`: "name" in the editor, "new_name" in Rename); and a new name another template of the
 * clinic has (public.rename_template, migration 20260101019450: message_templates_name_taken).
 */
export function templateRefusal(error: unknown, field: "name" | "new_name"): string | null {
  if (constraintName(error) === "message_templates_name_one_line" && oneLineRefusal(error)) return `control_${field}`;
  if (sqlState(error) === "23505" && constraintName(error) === "message_templates_name_taken") {
    return "template_name_taken";
  }
  return null;
}
