/**
 * What a clinic's template may be used for: Compose (`free_text`) or one kind of automatic
 * message, with the placeholders the worker fills in for it. One list, in template-kinds.json,
 * held to the service's (`scheduler.custom_templates.AUTOMATIC_KINDS` and `ALLOWED_VARIABLES`)
 * by tests/unit/test_dashboard_template_kinds.py: the editor lacked `caregiver_dose_update`
 * when the service added it, and the action refused it as an unknown use.
 */
import kinds from "./template-kinds.json";

export interface TemplateUse {
  kind: string;
  label: string;
  variables: string[];
}

export const TEMPLATE_USES: readonly TemplateUse[] = kinds;

/** The kinds the service sends on its own, for which a clinic may save its own text. */
export const AUTOMATIC_KINDS: readonly string[] = kinds.filter((k) => k.kind !== "free_text").map((k) => k.kind);

/** A kind's name as the dashboard shows it ("Medication reminder"). */
export const KIND_LABELS: Readonly<Record<string, string>> = Object.fromEntries(kinds.map((k) => [k.kind, k.label]));
