"use server";

import { redirect } from "next/navigation";
import { requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { deleteTemplate, saveTemplate } from "@/lib/data/templates";
import { TEMPLATE_CHANNELS, templateProblems } from "@/lib/placeholders";

/** Save a template after the same checks the editor shows. */
export async function saveTemplateAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const name = String(formData.get("name") ?? "").trim();
  const locale = String(formData.get("locale") ?? "en");
  const channel = String(formData.get("channel") ?? "default");
  const body = String(formData.get("body") ?? "");
  if (
    !name ||
    name.length > 100 ||
    !["en", "es"].includes(locale) ||
    !(TEMPLATE_CHANNELS as readonly string[]).includes(channel) ||
    templateProblems(body, channel).length > 0
  ) {
    redirect("/templates?error=invalid");
  }
  await asClinician(clinician.id, (tx) =>
    saveTemplate(tx, { name, locale, channel, body, createdBy: clinician.id }),
  );
  redirect("/templates?saved=1");
}

/** Delete a template. */
export async function deleteTemplateAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = String(formData.get("id") ?? "");
  if (!isUuid(id)) redirect("/templates?error=not_found");
  const ok = await asClinician(clinician.id, (tx) => deleteTemplate(tx, id));
  redirect(ok ? "/templates" : "/templates?error=not_found");
}
