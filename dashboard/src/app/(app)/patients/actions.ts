"use server";

import { VALUE_MAX, tooLongCode } from "@/lib/limits";
import { redirect } from "next/navigation";
import { requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { createPatient, requestErasure } from "@/lib/data/patients";
import { sqlState } from "@/lib/errors";
import { canonicalTimezone } from "@/lib/time";
import { canonicalAddress } from "@/lib/contact";

const CHANNELS = new Set(["telegram", "whatsapp", "sms", "email"]);

/** Create a patient of the clinician's organization with one contact point. */
export async function createPatientAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const displayName = String(formData.get("display_name") ?? "").trim();
  const channel = String(formData.get("channel") ?? "");
  // The address as the bot and the senders spell it (see canonicalAddress), not as typed.
  const address = canonicalAddress(channel, String(formData.get("address") ?? ""));
  // The zone as the planner will load it (see canonicalTimezone), not as typed.
  const timezone = canonicalTimezone(String(formData.get("timezone") ?? "").trim() || clinician.timezone);
  const locale = String(formData.get("locale") ?? "en");
  const externalId = String(formData.get("external_id") ?? "").trim() || null;
  const consent = formData.get("consent") === "on";
  if (!displayName || !CHANNELS.has(channel)) {
    redirect("/patients/new?error=invalid");
  }
  if (displayName.length > VALUE_MAX.patient_name) redirect(`/patients/new?error=${tooLongCode("patient_name")}`);
  if (address === null) redirect("/patients/new?error=address");
  if (timezone === null) redirect("/patients/new?error=timezone");
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
      }),
    );
  } catch (error) {
    if (sqlState(error) === "23505") redirect("/patients/new?error=duplicate");
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
