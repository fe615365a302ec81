/**
 * Clinic templates as the dashboard uses them: saved texts that may name the patient and the
 * clinic with `{{ patient_name }}` and `{{ clinic_name }}` (Jinja's spelling, no logic), filled in
 * when a message is composed. Pure: used by the server actions and in the browser.
 *
 * What this accepts is a subset of what the worker's sandbox accepts (`validate_custom` in
 * core/templating.py, `POST /api/v1/templates/validate`): only two variables, no statements, and
 * longer sample values for the length check. When MEDREMIND_API_URL is set, the server asks the
 * Python API first (./template-api.ts) and applies these rules after it; without it, these rules
 * are the only check (the fallback).
 */
import { unclosedDirectionControl } from "./direction-controls";
import { DEFAULT_SMS_MAX_SEGMENTS, lengthProblem } from "./sms";

export const PLACEHOLDERS = ["patient_name", "clinic_name"] as const;
export const TEMPLATE_CHANNELS = ["default", "telegram", "whatsapp", "sms", "email"] as const;
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
// The longest value each placeholder takes (core/template_language.py VARIABLES: the worker
// shortens longer names to these), in letters outside GSM-7 ("Ł"), so a template that fits with
// them fits every patient: one such letter makes a whole SMS UCS-2 (70 characters a segment).
export const SAMPLE_LONGEST = { patient_name: "Ł".repeat(50), clinic_name: "Ł".repeat(60) };
// A default version may go out on any channel: it must fit the strict ones (as the API checks).
const DEFAULT_CHECKED = ["sms", "whatsapp", "telegram"] as const;

/** Replace the placeholders with `values` (unknown ones are left as written). */
export function fillTemplate(body: string, values: Partial<Record<(typeof PLACEHOLDERS)[number], string>>): string {
  return body.replace(PLACEHOLDER, (whole, name: string) =>
    name in values ? (values[name as keyof typeof values] ?? "") : whole,
  );
}

/**
 * Placeholders in free text that composing does not fill (anything but {{ patient_name }} and
 * {{ clinic_name }}): they would reach the patient as typed, so compose warns and refuses them.
 */
export function unknownPlaceholders(text: string): string[] {
  const names = [...text.matchAll(PLACEHOLDER)].map((m) => m[1] ?? "");
  return [...new Set(names.filter((n) => !(PLACEHOLDERS as readonly string[]).includes(n)))];
}

// Template markup naming a value, as the API finds it in a message's text (medremind/web/api_v1/
// fields.py _TEMPLATE_MARKUP): Jinja's "{{ name }}" and "{% if %}", WhatsApp's "{{1}}".
const TEMPLATE_MARKUP = /\{\{\s*[A-Za-z0-9_][^{}]*\}\}|\{%[\s\S]*?%\}/;

/**
 * Template markup in free text that composing leaves as typed (`{% if %}`, WhatsApp's `{{1}}`,
 * `{{ patient_name | upper }}`), or null: the API refuses such a text (422), since the patient
 * would read the braces. `{{ patient_name }}` and `{{ clinic_name }}` are filled in, so not markup.
 */
export function templateMarkup(text: string): string | null {
  const left = text.replace(PLACEHOLDER, (whole, name: string) => ((PLACEHOLDERS as readonly string[]).includes(name) ? "" : whole));
  return TEMPLATE_MARKUP.exec(left)?.[0] ?? null;
}

/**
 * Free text as one patient receives it: their name and the clinic's filled in (a patient without
 * a name gets an empty one, as in a group message). Compose's preview and the server action use
 * this one function, so the preview is what is sent.
 */
export function fillForPatient(text: string, patientName: string | null, clinicName: string): string {
  return fillTemplate(text, { patient_name: patientName ?? "", clinic_name: clinicName });
}

/**
 * What is wrong with a template for `channel`; empty when it can be saved. `maxSegments`: the SMS
 * limit the service enforces (MEDREMIND_SMS_MAX_SEGMENTS, published in `service_limits`).
 */
export function templateProblems(body: string, channel: string, maxSegments = DEFAULT_SMS_MAX_SEGMENTS): string[] {
  const problems: string[] = [];
  if (!body.trim()) problems.push("The text is empty.");
  if (/\{%|\{#/.test(body)) problems.push("Only {{ patient_name }} and {{ clinic_name }} are allowed; no {% %} or {# #}.");
  // The worker renders templates with Jinja, where "{{{ name }}" is a syntax error; refuse it here
  // too, so nothing the dashboard saves is refused by the API's validate_custom.
  if (body.includes("{{{")) problems.push("Three braces in a row ({{{) are not allowed: write {{ name }}.");
  for (const match of body.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? "";
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) problems.push(`Unknown placeholder {{ ${name} }}.`);
  }
  const stripped = body.replace(PLACEHOLDER, "");
  if (stripped.includes("{{") || stripped.includes("}}")) problems.push("A placeholder is not closed: use {{ name }}.");
  // The API refuses these in a template (core/direction_controls.py, validate_custom); without
  // this the fallback saved a text whose every message read reversed after the control.
  const open = unclosedDirectionControl(body);
  if (open !== null) {
    problems.push(
      `Line ${open.line}: an invisible direction control (${open.char}) is left open, so the rest of that line would reach the patient reversed. Remove it, or close it with ${open.closer} on the same line.`,
    );
  }
  for (const checked of channel === "default" ? DEFAULT_CHECKED : [channel]) {
    const tooLong = worstCaseLengthProblem(body, checked, maxSegments);
    if (tooLong && !problems.includes(tooLong)) problems.push(tooLong);
  }
  return problems;
}

/**
 * Why `body` can be too long for `channel` with every placeholder at its longest, or null. As the
 * API counts it (core/templating.py worst_case_problem): with a placeholder an SMS is UCS-2, and a
 * concatenated segment is counted at 66 units (a surrogate pair never straddles two).
 */
export function worstCaseLengthProblem(body: string, channel: string, maxSegments = DEFAULT_SMS_MAX_SEGMENTS): string | null {
  const text = withLongestValues(body);
  if (channel === "sms" && text !== body) {
    const units = text.length;
    const segments = units <= 70 ? 1 : Math.ceil(units / 66);
    return segments > maxSegments
      ? `Too long for SMS with the longest names: ${segments} segments (${maxSegments} at most).`
      : null;
  }
  return lengthProblem(text, channel, maxSegments);
}

/** `text` with its placeholders filled with the longest realistic values (for length checks). */
export function withLongestValues(text: string): string {
  return fillTemplate(text, SAMPLE_LONGEST);
}
