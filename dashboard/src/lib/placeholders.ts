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
import { lengthProblem } from "./sms";

export const PLACEHOLDERS = ["patient_name", "clinic_name"] as const;
export const TEMPLATE_CHANNELS = ["default", "telegram", "whatsapp", "sms", "email"] as const;
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
// Longest realistic values, so the length check holds for every patient.
export const SAMPLE_LONGEST = { patient_name: "X".repeat(40), clinic_name: "X".repeat(60) };

/** Replace the placeholders with `values` (unknown ones are left as written). */
export function fillTemplate(body: string, values: Partial<Record<(typeof PLACEHOLDERS)[number], string>>): string {
  return body.replace(PLACEHOLDER, (whole, name: string) =>
    name in values ? (values[name as keyof typeof values] ?? "") : whole,
  );
}

/** What is wrong with a template for `channel`; empty when it can be saved. */
export function templateProblems(body: string, channel: string): string[] {
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
  const tooLong = lengthProblem(withLongestValues(body), channel);
  if (tooLong) problems.push(tooLong);
  return problems;
}

/** `text` with its placeholders filled with the longest realistic values (for length checks). */
export function withLongestValues(text: string): string {
  return fillTemplate(text, SAMPLE_LONGEST);
}
