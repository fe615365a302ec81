/**
 * Direction controls left open in a text the clinic writes and that is kept as written (a
 * message's text, a waitlist note, an external id): the rule the API applies to the same fields
 * and to templates (core/direction_controls.py; docs/api.md "Direction controls").
 *
 * An embedding, override or isolate (U+202A, U+202B, U+202D, U+202E; U+2066-U+2068) reorders the
 * text after it up to its closer (U+202C for the first four, U+2069 for isolates) or the end of
 * the line: left open, "Call us at 030 1234<U+202E> 567" reached the patient with the rest of the
 * line reversed. Closed on its line it is right-to-left writing doing its job, and is kept.
 */

const EMBEDDINGS = new Set(["\u202a", "\u202b", "\u202d", "\u202e"]);
const ISOLATES = new Set(["\u2066", "\u2067", "\u2068"]);
const PDF = "\u202c";
const PDI = "\u2069";
// Where Python's str.splitlines ends a line, which the API's rule uses: splitting on \r and \n
// only, an override "closed" after a U+2029 or U+0085 was kept here and refused by the API.
const LINE_END = /\r\n|[\n\v\f\r\x1c-\x1e\x85\u2028\u2029]/;

/** The first direction control `text` leaves open on its line: its line (from 1), the code point
 * ("U+202E") and the one that closes it; or null. */
export function unclosedDirectionControl(text: string): { line: number; char: string; closer: string } | null {
  for (const [index, line] of text.split(LINE_END).entries()) {
    const opened: string[] = [];
    for (const char of line) {
      const last = opened.at(-1);
      if (EMBEDDINGS.has(char) || ISOLATES.has(char)) opened.push(char);
      else if (char === PDF && last !== undefined && EMBEDDINGS.has(last)) opened.pop();
      else if (char === PDI && opened.some((c) => ISOLATES.has(c))) {
        // A PDI closes its isolate and whatever was opened inside it.
        let closed = opened.pop();
        while (closed !== undefined && !ISOLATES.has(closed)) closed = opened.pop();
      }
    }
    const first = opened[0];
    if (first !== undefined) {
      const code = `U+${(first.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
      return { line: index + 1, char: code, closer: ISOLATES.has(first) ? "U+2069" : "U+202C" };
    }
  }
  return null;
}
