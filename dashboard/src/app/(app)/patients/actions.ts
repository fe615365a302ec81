"use server";

import { VALUE_MAX, tooLongCode } from "@/lib/limits";
import { redirect } from "next/navigation";
import { currentClinician, requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { AddressHeld, createPatient, requestErasure } from "@/lib/data/patients";
import { heldCode } from "@/lib/address-held";
import { externalIdRefusal, nameRefusal, oneLineRefusal, sqlState } from "@/lib/errors";
import { canonicalTimezone, timezoneProblem } from "@/lib/time";
import { unclosedDirectionControl } from "@/lib/direction-controls";
import { addressError, canonicalAddress } from "@/lib/contact";
import { type FormState, formValues, sessionEnded } from "@/lib/form-state";
import { controlCode, controlField } from "@/lib/control-characters";

const CHANNELS = new Set(["telegram", "whatsapp", "sms", "email"]);
const EXTERNAL_ID_MAX = 100;
/** The fields of the New patient form (components/NewPatientForm.tsx). */
const PATIENT_FIELDS = [
  "display_name",
  "channel",
  "address",
  "timezone",
  "locale",
  "external_id",
  "consent",
  "invite_holder",
] as const;

/**
 * Create a patient of the clinician's organization with one contact point. A refusal comes back
 * to the form naming the field, with everything as typed (nothing is inserted).
 */
export async function createPatientAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = formValues(formData, PATIENT_FIELDS);
  const clinician = await currentClinician();
  if (!clinician) return sessionEnded(values);
  const refuse = (error: string, field: string): FormState => ({ error, field, values });
  const control = controlField(formData, PATIENT_FIELDS);
  if (control !== null) return refuse(controlCode(control), control);
  const displayName = values.display_name.trim();
  const channel = values.channel;
  // A Telegram chat is linked by the patient opening an invite link (no address here); any other
  // address as the bot and the senders spell it (see canonicalAddress), not as typed.
  const telegram = channel === "telegram";
  const address = telegram ? null : canonicalAddress(channel, values.address);
  // The zone as the planner will load it (see canonicalTimezone), not as typed.
  const timezone = canonicalTimezone(values.timezone.trim() || clinician.timezone);
  const locale = values.locale;
  const externalId = values.external_id.trim() || null;
  const consent = values.consent === "on";
  if (!displayName) return refuse("name_required", "display_name");
  if (displayName.length > VALUE_MAX.patient_name) return refuse(tooLongCode("patient_name"), "display_name");
  if (!CHANNELS.has(channel)) return refuse("channel", "channel");
  // A typed chat id would message whoever's chat that is: the form has no address field for
  // Telegram, so only a forged submission gets here (the database refuses it too).
  if (telegram && values.address.trim()) return refuse("telegram_typed", "channel");
  if (!telegram && address === null) return refuse(addressError(channel), "address");
  const zoneProblem = timezoneProblem(values.timezone.trim() || clinician.timezone);
  if (timezone === null || zoneProblem !== null) return refuse(zoneProblem ?? "timezone", "timezone");
  if ((externalId?.length ?? 0) > EXTERNAL_ID_MAX) return refuse("too_long_external_id", "external_id");
  if (externalId !== null && unclosedDirectionControl(externalId) !== null) {
    return refuse("direction_external_id", "external_id");
  }
  let id: string;
  try {
    id = await asClinician(clinician.id, (tx) =>
      createPatient(tx, {
        displayName,
        timezone,
        locale: locale === "es" ? "es" : "en",
        externalId,
        channel,
        address,
        consent,
        inviteHolder: values.invite_holder === "on",
      }),
    );
  } catch (error) {
    if (error instanceof AddressHeld) {
      return { error: heldCode(channel, error.ownPatientId !== null), field: "address", values, existing: error.ownPatientId ?? undefined };
    }
    if (sqlState(error) === "23505") return refuse("duplicate", "external_id");
    const invisibleId = externalIdRefusal(error);
    if (invisibleId) return refuse(invisibleId, "external_id");
    const invisible = nameRefusal(error);
    if (invisible) return refuse(invisible, "display_name");
    // A control character in the name (migration 20260101019030), if one got past controlField.
    const broken = oneLineRefusal(error);
    if (broken !== null) return refuse(broken, "display_name");
    throw error;
  }
  redirect(`/patients/${id}`);
}

/** The clinic's erasure request for one patient, after the clinician confirmed it. */
export async function requestErasureAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = String(formData.get("patient_id") ?? "");
  if (!isUuid(id)) redirect("/patients");
  if (formData.get("confirm") !== "on") redirect(`/patients/${id}?error=confirm_erasure`);
  await asClinician(clinician.id, (tx) => requestErasure(tx, id));
  redirect(`/patients/${id}`);
}
