"use server";

import { redirect } from "next/navigation";
import { currentClinician, requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { ADMIN_ONLY_STATE, errorMessage, sqlState, templateRefusal } from "@/lib/errors";
import { SESSION_ENDED, typedText } from "@/lib/form-state";
import { controlCode, controlMessage, hasControlCharacter, hasLineBreak } from "@/lib/control-characters";
import { deleteTemplate, renameTemplate, saveTemplate } from "@/lib/data/templates";
import { smsMaxSegments } from "@/lib/data/limits";
import { TEMPLATE_CHANNELS, templateProblems } from "@/lib/placeholders";
import { AUTOMATIC_KINDS } from "@/lib/template-kinds";
import { serviceProblem } from "@/lib/service-problem";
import { TemplateApiUnavailable, apiValidationConfigured, validateWithApi } from "@/lib/template-api";

/** What a template is used for: Compose (`free_text`) or one kind of automatic message. */
const USES: readonly string[] = ["free_text", ...AUTOMATIC_KINDS];

/** What the server found checking a template (the editor shows it next to the fields). */
export interface TemplateCheck {
  /** Who decided: the Python API, the dashboard's own rules, or nobody (API configured but down). */
  by: "python" | "dashboard" | "unavailable";
  /** Problems of the text; empty when it can be saved. */
  problems: string[];
  /** Problem of the name, language or channel fields, if any. */
  fieldProblem: string | null;
  /** The API's preview with its sample values (only when the API validated the text). */
  preview: string | null;
  length: number | null;
  segments: number | null;
  encoding: string | null;
  /** The text and channel that were checked, so the editor knows when its answer is stale. */
  body: string;
  channel: string;
  /** When it was checked (ms since the epoch): the editor shows the newer of two answers. */
  at: number;
  /** The session had ended: nothing was checked or saved (lib/form-state.ts SESSION_ENDED). */
  code?: typeof SESSION_ENDED;
}

/** The answer to a check or save sent after the session ended: the editor keeps its fields. */
function sessionEndedCheck(f: Fields): TemplateCheck {
  return {
    by: "unavailable",
    problems: [],
    fieldProblem: errorMessage(SESSION_ENDED),
    preview: null,
    length: null,
    segments: null,
    encoding: null,
    body: f.body,
    channel: f.channel,
    at: Date.now(),
    code: SESSION_ENDED,
  };
}

interface Fields {
  name: string;
  kind: string;
  locale: string;
  channel: string;
  body: string;
}

function fields(formData: FormData): Fields {
  return {
    name: String(formData.get("name") ?? "").trim(),
    kind: String(formData.get("kind") ?? "free_text"),
    locale: String(formData.get("locale") ?? "en"),
    channel: String(formData.get("channel") ?? "default"),
    body: typedText(formData.get("body")),
  };
}

function fieldProblem(f: Fields): string | null {
  if (!f.name || f.name.length > 100) return "The name must be 1 to 100 characters.";
  if (hasLineBreak(f.name)) return controlMessage(controlCode("name"));
  if (!["en", "es"].includes(f.locale)) return "Choose English or Español.";
  if (!(TEMPLATE_CHANNELS as readonly string[]).includes(f.channel)) return "Choose a channel.";
  if (!USES.includes(f.kind)) return "Used for: choose Compose or one of the automatic messages.";
  return null;
}

/**
 * Check the text: with the Python API when MEDREMIND_API_URL is set (it renders templates in the
 * worker's sandbox, so it decides), then with the dashboard's narrower rules (Compose fills in only
 * {{ patient_name }} and {{ clinic_name }}). Without the API, only the dashboard's rules.
 */
async function checkText(f: Fields, maxSegments: number): Promise<TemplateCheck> {
  const base = { fieldProblem: fieldProblem(f), preview: null, length: null, segments: null, encoding: null, body: f.body, channel: f.channel, at: Date.now() };
  const channel = (TEMPLATE_CHANNELS as readonly string[]).includes(f.channel) ? f.channel : "default";
  const kind = USES.includes(f.kind) ? f.kind : "free_text";
  // Refused here, before the API is asked: the database would refuse the text (a NUL), or the
  // patient get it as garbage.
  if (hasControlCharacter(f.body)) return { ...base, by: "dashboard", problems: [controlMessage(controlCode("body")) ?? ""] };
  if (kind !== "free_text" && !apiValidationConfigured()) {
    // The dashboard's own rules know only Compose's two placeholders: an automatic message's
    // text (dates, places, medicines) is checked by the service that renders it, or not saved.
    return {
      ...base,
      by: "unavailable",
      problems: ["Texts for automatic messages are checked by the MedRemind service, which is not configured here (MEDREMIND_API_URL)."],
    };
  }
  let api;
  try {
    api = await validateWithApi(f.body, channel, kind);
  } catch (error) {
    if (!(error instanceof TemplateApiUnavailable)) throw error;
    const { reason, retry } = serviceProblem(error.status);
    return {
      ...base,
      by: "unavailable",
      problems: [`The text could not be checked: ${reason}. Nothing was saved${retry ? "; try again in a moment" : ""}.`],
    };
  }
  if (api === null) return { ...base, by: "dashboard", problems: templateProblems(f.body, f.channel, maxSegments) };
  if (!api.ok) return { ...base, by: "python", problems: api.problems };
  // Compose fills in only its two placeholders (the dashboard's rules); automatic texts are the
  // worker's, which the API has just checked.
  const own = kind === "free_text" ? templateProblems(f.body, f.channel, maxSegments) : [];
  return {
    ...base,
    by: own.length > 0 ? "dashboard" : "python",
    problems: own,
    preview: api.preview,
    length: api.length,
    segments: api.segments,
    encoding: api.encoding,
  };
}

/** Check a template without saving it (the editor's "Check" button). */
export async function checkTemplateAction(_prev: TemplateCheck | null, formData: FormData): Promise<TemplateCheck> {
  const clinician = await currentClinician();
  if (!clinician) return sessionEndedCheck(fields(formData));
  return checkText(fields(formData), await asClinician(clinician.id, smsMaxSegments));
}

/** Save a template, unless the checks find a problem: then return them for the editor. */
export async function saveTemplateAction(_prev: TemplateCheck | null, formData: FormData): Promise<TemplateCheck> {
  const f = fields(formData);
  const clinician = await currentClinician();
  if (!clinician) return sessionEndedCheck(f);
  const check = await checkText(f, await asClinician(clinician.id, smsMaxSegments));
  if (check.fieldProblem || check.problems.length > 0) return check;
  try {
    await asClinician(clinician.id, (tx) =>
      saveTemplate(tx, { name: f.name, kind: f.kind, locale: f.locale, channel: f.channel, body: f.body, createdBy: clinician.id }),
    );
  } catch (error) {
    // The database refuses a clinician who is not an admin (migration 20260101009610).
    if (sqlState(error) === ADMIN_ONLY_STATE) redirect("/templates?error=admin_only");
    // A name the checks above passed and the database refused (a forged or raced submit): the
    // name field's message, with what was typed kept, not an error page.
    const refused = templateRefusal(error, "name");
    if (refused) return { ...check, by: "dashboard", fieldProblem: errorMessage(refused) };
    throw error;
  }
  redirect("/templates?saved=1");
}

/**
 * Rename a template, every version at once (and the messages waiting with it): the way to fix a
 * name saved on two lines before names had to be one line, which can take no new version. The
 * template is named by one of its versions' ids (lib/data/templates.ts renameTemplate says why),
 * the new name is taken as a name is saved.
 */
export async function renameTemplateAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = String(formData.get("version_id") ?? "");
  const newName = String(formData.get("new_name") ?? "").trim();
  if (!isUuid(id)) redirect("/templates?error=template_not_renamed");
  if (!newName || newName.length > 100) redirect("/templates?error=template_new_name");
  if (hasLineBreak(newName)) redirect(`/templates?error=${controlCode("new_name")}`);
  let renamed: number;
  try {
    renamed = await asClinician(clinician.id, (tx) => renameTemplate(tx, id, newName));
  } catch (error) {
    if (sqlState(error) === ADMIN_ONLY_STATE) redirect("/templates?error=admin_only");
    const refused = templateRefusal(error, "new_name");
    if (refused) redirect(`/templates?error=${refused}`);
    throw error;
  }
  redirect(renamed > 0 ? "/templates?renamed=1" : "/templates?error=template_not_renamed");
}

/** Delete a template version (refused while it is the last one and pending messages use it). */
export async function deleteTemplateAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = String(formData.get("id") ?? "");
  if (!isUuid(id)) redirect("/templates?error=template_version_not_found");
  let outcome: Awaited<ReturnType<typeof deleteTemplate>>;
  try {
    outcome = await asClinician(clinician.id, (tx) => deleteTemplate(tx, id));
  } catch (error) {
    if (sqlState(error) === ADMIN_ONLY_STATE) redirect("/templates?error=admin_only");
    throw error;
  }
  redirect(outcome === "deleted" ? "/templates" : `/templates?error=${outcome === "in_use" ? "template_in_use" : "template_version_not_found"}`);
}
