/**
 * Control characters in a submitted form. PostgreSQL's text holds no NUL: a name, an external id,
 * a location, a clinic's or a template's name or a message with one (pasted from another program,
 * or a forged form) failed the whole page with "Something went wrong" and lost what was typed
 * (found by hand, session 30). The other C0 controls and DEL print nothing and reach patients as
 * garbage. Tab and line breaks are text (a textarea's), but not in a one-line field (a name).
 * Pure: the unit tests import it.
 */

// C0 controls but tab, line feed and carriage return, and DEL.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

// In a one-line field, tab and line breaks too, the C1 controls (NEL among them) and Unicode's line
// and paragraph separators (core/one_line.py, the API's refusal): a clinic name with a line break
// put a line of its own into its patients' appointment messages (found over the API). A text
// input drops typed line breaks; a forged form or another client keeps them. Format characters
// (direction marks, emoji joiners) stay: right-to-left names and emoji need them.
const LINE_BREAK = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** The fields that hold one line (a name, an id, a place, an address), as forms name them. */
const ONE_LINE = new Set([
  "display_name",
  "external_id",
  "address",
  "timezone",
  "name",
  "location",
  "clinician_name",
  "template_name",
  "new_name",
]);

/** The form's fields a refusal names, as their labels read. */
const LABELS: Record<string, string> = {
  display_name: "Name",
  external_id: "External id",
  address: "Address",
  timezone: "Timezone",
  name: "Name",
  offsets: "Appointment reminders",
  location: "Location",
  clinician_name: "Clinician",
  message_content: "Message",
  group_query: "Recipients",
  template_name: "Template",
  new_name: "New name",
  body: "Text",
};

/** Whether `text` holds a control character a text field has no use for. */
export function hasControlCharacter(text: string): boolean {
  return CONTROL.test(text);
}

/** Whether `text`, a one-line field's value, holds a line break or a control character. */
export function hasLineBreak(text: string): boolean {
  return LINE_BREAK.test(text);
}

/**
 * The first of `names` whose value in `formData` holds a control character (a line break too, in
 * a one-line field), else null.
 */
export function controlField(formData: FormData, names: readonly string[]): string | null {
  for (const name of names) {
    const value = formData.get(name);
    if (typeof value !== "string") continue;
    if ((ONE_LINE.has(name) ? LINE_BREAK : CONTROL).test(value)) return name;
  }
  return null;
}

/** The error code of a control character in field `name` (read by controlMessage). */
export function controlCode(name: string): string {
  return `control_${name}`;
}

/** What the form says of a control character in the field of error code `code`, else null. */
export function controlMessage(code: string): string | null {
  if (!code.startsWith("control_")) return null;
  const label = LABELS[code.slice("control_".length)] ?? "A field";
  const field = code.slice("control_".length);
  if (ONE_LINE.has(field)) {
    return `${label}: it holds an invisible control character or a line break (often pasted from another program), and it is one line of text. Type it on one line; nothing was saved.`;
  }
  return `${label}: it holds an invisible control character (such as NUL, often pasted from another program), which cannot be stored. Remove it, or type the text again; nothing was saved.`;
}
