"use server";

import { redirect } from "next/navigation";
import { requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import {
  PLATFORMS,
  cancelMessage,
  countGroup,
  scheduleGroupMessage,
  scheduleMessage,
  sendNow,
} from "@/lib/data/messages";
import { sqlState } from "@/lib/errors";
import { isLocalDateTime } from "@/lib/time";

/** How many patients a group message to `search` would reach (compose's recipient count). */
export async function countGroupAction(search: string): Promise<number> {
  const clinician = await requireClinician();
  return asClinician(clinician.id, (tx) => countGroup(tx, String(search).trim().slice(0, 100)));
}

/** Insert a pending message for one patient or a group; the Python worker sends them when due. */
export async function scheduleMessageAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const patientId = String(formData.get("patient_id") ?? "");
  const platform = String(formData.get("platform") ?? "auto");
  const content = String(formData.get("message_content") ?? "").trim();
  const when = String(formData.get("when") ?? "now");
  const localTime = when === "later" ? String(formData.get("local_time") ?? "") : null;
  const urgent = formData.get("urgent") === "on";
  if (formData.get("audience") === "group") {
    const search = String(formData.get("group_query") ?? "").trim();
    if (
      search.length > 100 ||
      !(PLATFORMS as readonly string[]).includes(platform) ||
      !content ||
      content.length > 4096 ||
      (localTime !== null && !isLocalDateTime(localTime))
    ) {
      redirect("/messages/new?error=invalid");
    }
    const count = await asClinician(clinician.id, (tx) =>
      scheduleGroupMessage(tx, search, {
        platform,
        content,
        localTime,
        timezone: clinician.timezone,
        urgent,
        createdBy: clinician.id,
      }),
    );
    redirect(`/messages?status=pending&scheduled=${count}`);
  }
  const back = `/messages/new?patient=${encodeURIComponent(patientId)}`;
  if (
    !isUuid(patientId) ||
    !(PLATFORMS as readonly string[]).includes(platform) ||
    !content ||
    content.length > 4096 ||
    (localTime !== null && !isLocalDateTime(localTime))
  ) {
    redirect(`${back}&error=invalid`);
  }
  try {
    await asClinician(clinician.id, (tx) =>
      scheduleMessage(tx, {
        patientId,
        platform,
        content,
        localTime,
        timezone: clinician.timezone,
        urgent,
        createdBy: clinician.id,
      }),
    );
  } catch (error) {
    // 42501: the row-level check refused a patient of another organization; 23503: no such patient.
    const state = sqlState(error);
    if (state === "42501" || state === "23503") redirect(`${back}&error=not_found`);
    throw error;
  }
  redirect(`/patients/${patientId}`);
}

function messageId(formData: FormData): string {
  const id = String(formData.get("id") ?? "");
  if (!isUuid(id)) redirect("/messages?error=not_found");
  return id;
}

function backTo(formData: FormData): string {
  const status = String(formData.get("filter") ?? "");
  return status ? `/messages?status=${encodeURIComponent(status)}` : "/messages";
}

/** Cancel a pending message. */
export async function cancelMessageAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = messageId(formData);
  const ok = await asClinician(clinician.id, (tx) => cancelMessage(tx, id));
  const back = backTo(formData);
  redirect(ok ? back : `${back}${back.includes("?") ? "&" : "?"}error=not_pending`);
}

/** Make a pending message due now. */
export async function sendNowAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = messageId(formData);
  const ok = await asClinician(clinician.id, (tx) => sendNow(tx, id));
  const back = backTo(formData);
  redirect(ok ? back : `${back}${back.includes("?") ? "&" : "?"}error=not_pending`);
}
