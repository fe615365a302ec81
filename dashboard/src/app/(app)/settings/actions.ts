"use server";

import { VALUE_MAX, tooLongCode } from "@/lib/limits";
import { redirect } from "next/navigation";
import { currentClinician, requireClinician } from "@/lib/auth";
import { asClinician } from "@/lib/db";
import { ADMIN_ONLY_STATE, oneLineRefusal, sqlState } from "@/lib/errors";
import { CAPACITY_FIELDS, parseCapacityForm } from "@/lib/capacity";
import { PATIENT_CAP_FIELDS, parsePatientCapsForm } from "@/lib/patient-caps";
import { accountFields, changeAccount, isAccountChannel, type SaveResult } from "@/lib/provider-accounts";
import { CLINIC_OFFSETS, parseOffsetList } from "@/lib/offsets";
import { canonicalTimezone, timezoneProblem, isClockTime, quietWindowOfNoLength } from "@/lib/time";
import { type FormState, formValues, sessionEnded } from "@/lib/form-state";
import { controlCode, controlField } from "@/lib/control-characters";

/** The fields of the clinic's defaults form (components/ClinicSettingsForm.tsx). */
const SETTINGS_FIELDS = ["name", "timezone", "offsets", "quiet_start", "quiet_end"] as const;

/**
 * Save the organization's defaults (name, timezone, reminder offsets, quiet hours). A refusal
 * comes back to the form naming the field, with everything as typed; nothing is saved.
 */
export async function saveSettingsAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = formValues(formData, SETTINGS_FIELDS);
  const clinician = await currentClinician();
  if (!clinician) return sessionEnded(values);
  const refuse = (error: string, field?: string): FormState => ({ error, field, values });
  const control = controlField(formData, SETTINGS_FIELDS);
  if (control !== null) return refuse(controlCode(control), control);
  const name = values.name.trim();
  // The zone as the planner will load it (see canonicalTimezone), not as typed.
  const timezone = canonicalTimezone(values.timezone);
  // The same form as the patient page's (lib/offsets.ts), within the clinic's bounds.
  const offsets = parseOffsetList(values.offsets, CLINIC_OFFSETS);
  const { quiet_start: quietStart, quiet_end: quietEnd } = values;
  if (!name) return refuse("clinic_name_required", "name");
  if (name.length > VALUE_MAX.clinic_name) return refuse(tooLongCode("clinic_name"), "name");
  const zoneProblem = timezoneProblem(values.timezone);
  if (timezone === null || zoneProblem !== null) return refuse(zoneProblem ?? "timezone", "timezone");
  if (offsets === null) return refuse("settings_offsets", "offsets");
  if (!isClockTime(quietStart)) return refuse("quiet_hours", "quiet_start");
  if (!isClockTime(quietEnd)) return refuse("quiet_hours", "quiet_end");
  if (quietWindowOfNoLength(quietStart, quietEnd)) return refuse("quiet_hours_no_length", "quiet_end");
  try {
    await asClinician(clinician.id, (tx) => tx`
      update organizations
         set name = ${name}, timezone = ${timezone},
             appointment_reminder_offsets = ${offsets.join(",") ? `{${offsets.join(",")}}` : "{}"}::integer[],
             default_quiet_start = ${quietStart}::time, default_quiet_end = ${quietEnd}::time
       where id = public.current_organization_id()`);
  } catch (error) {
    // The database refuses a clinician who is not an admin (migration 20260101009610).
    if (sqlState(error) === ADMIN_ONLY_STATE) return refuse("admin_only");
    // A line break in the clinic's name (migration 20260101019020), if one got past controlField.
    const broken = oneLineRefusal(error);
    if (broken !== null) return refuse(broken, "name");
    throw error;
  }
  redirect("/settings?saved=1");
}

/**
 * Save the clinic's settings for the 08:00 peak (early send window per kind, Telegram paid
 * broadcast). The database refuses a clinician who is not an admin (migration 20260101009610).
 * A refusal comes back to the form naming the field (its code is the field's name, see
 * CAPACITY_PROBLEMS), with everything as chosen; nothing is saved.
 */
export async function saveCapacityAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = formValues(formData, CAPACITY_FIELDS);
  const clinician = await currentClinician();
  if (!clinician) return sessionEnded(values);
  const parsed = parseCapacityForm(formData);
  if (!parsed.ok) return { error: parsed.field, field: parsed.field, values };
  const { early_send_seconds: early, telegram_paid_broadcast_after_seconds: after } = parsed.value;
  try {
    await asClinician(clinician.id, (tx) => tx`
      update organizations
         set early_send_seconds = ${tx.json(early)},
             telegram_paid_broadcast_after_seconds = ${after}
       where id = public.current_organization_id()`);
  } catch (error) {
    if (sqlState(error) === ADMIN_ONLY_STATE) return { error: "admin_only", values };
    throw error;
  }
  redirect("/settings?capacity_saved=1#capacity");
}

/**
 * Save the clinic's own cap on its messages per patient (lib/patient-caps.ts): a number sets a
 * window's, blank removes it (the service's default then). The database refuses a clinician who
 * is not an admin (migration 20260101009610) and a value out of bounds (migration
 * 20260101018360, SQLSTATE 22023, which the form has checked first); the other caps keep theirs.
 */
export async function savePatientCapsAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = formValues(formData, PATIENT_CAP_FIELDS);
  const clinician = await currentClinician();
  if (!clinician) return sessionEnded(values);
  const parsed = parsePatientCapsForm(formData);
  if (!parsed.ok) return { error: parsed.field, field: parsed.field, values };
  const removed = Object.keys(parsed.value).filter((key) => parsed.value[key] === null);
  const set = Object.fromEntries(Object.entries(parsed.value).filter(([, v]) => v !== null));
  try {
    await asClinician(clinician.id, (tx) => tx`
      update organizations
         set caps = caps - ${removed}::text[] || ${tx.json(set)}::jsonb
       where id = public.current_organization_id()`);
  } catch (error) {
    if (sqlState(error) === ADMIN_ONLY_STATE) return { error: "admin_only", values };
    throw error;
  }
  redirect("/settings?caps_saved=1#patient-caps");
}

/** Where the accounts section redirects after a change: the outcome in the query string. */
function accountsBack(channel: string, outcome: Record<string, string>): string {
  const query = new URLSearchParams({ account: channel, ...outcome });
  return `/settings?${query.toString()}#accounts`;
}

/**
 * Save (or, with `remove`, delete) the clinic's own provider account for one channel. Admins only:
 * the database refuses the token to anyone else. The web process checks the account at the
 * provider first; its refusal names the field, which the form marks.
 */
export async function saveAccountAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const channel = formData.get("channel");
  if (!isAccountChannel(channel)) redirect("/settings?error=invalid");
  if (clinician.role !== "admin") {
    redirect(accountsBack(channel, { account_error: "Only an admin of the clinic can change its provider accounts." }));
  }
  const remove = formData.get("remove") === "1";
  let result: SaveResult;
  try {
    result = await changeAccount(clinician.id, channel, remove ? null : accountFields(channel, formData));
  } catch (error) {
    if (sqlState(error) === "42501") {
      result = { ok: false, field: null, reason: "Only an admin of the clinic can change its provider accounts." };
    } else {
      throw error;
    }
  }
  if (!result.ok) {
    redirect(
      accountsBack(channel, {
        account_error: result.reason.slice(0, 300),
        ...(result.field ? { account_field: result.field } : {}),
      }),
    );
  }
  redirect(accountsBack(channel, { account_saved: remove ? "removed" : "saved" }));
}
