import "server-only";

/**
 * Template validation by the Python web API (`POST /api/v1/templates/validate`), which checks a
 * text with the same Jinja sandbox the worker renders it in. Server only: the API key never
 * reaches the browser.
 *
 * Configuration: `MEDREMIND_API_URL` (e.g. http://127.0.0.1:8000) and `MEDREMIND_API_KEY` (an API
 * key of any one organization: validation does not depend on the organization, the sandbox rules
 * are the same for every clinic). Without `MEDREMIND_API_URL` the dashboard falls back to its own
 * TypeScript checks (`templateProblems` in ./placeholders).
 */

/** What the API answered for one text. */
export interface ApiValidation {
  ok: boolean;
  problems: string[];
  preview: string | null;
  length: number | null;
  segments: number | null;
  encoding: string | null;
}

const TIMEOUT_MS = 5000;

/** True when the Python API is configured to validate templates. */
export function apiValidationConfigured(): boolean {
  return Boolean(process.env.MEDREMIND_API_URL?.trim());
}

/** Raised when the API is configured but gives no usable answer (down, key refused...). */
export class TemplateApiUnavailable extends Error {
  /** The API's HTTP status; null when it did not answer at all. */
  readonly status: number | null;

  constructor(message: string, status: number | null = null) {
    super(message);
    this.status = status;
  }
}

/**
 * Validate `body` for `channel` (a message of `kind`) with the Python API; null when the API is not
 * configured. Throws TemplateApiUnavailable when it is configured but does not answer properly,
 * so the caller refuses to save rather than skipping the check.
 */
export async function validateWithApi(body: string, channel: string, kind = "free_text"): Promise<ApiValidation | null> {
  const base = process.env.MEDREMIND_API_URL?.trim();
  if (!base) return null;
  const key = process.env.MEDREMIND_API_KEY?.trim() ?? "";
  let response: Response;
  try {
    response = await fetch(`${base.replace(/\/+$/, "")}/api/v1/templates/validate`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ body, channel, kind }),
      cache: "no-store",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    throw new TemplateApiUnavailable("the MedRemind API did not answer");
  }
  if (!response.ok) {
    // 401/403: a missing or revoked key; 422: a text that cannot be saved (its problems listed).
    if (response.status === 422) {
      return { ok: false, problems: await problemList(response), preview: null, length: null, segments: null, encoding: null };
    }
    throw new TemplateApiUnavailable(`the MedRemind API answered ${response.status}`, response.status);
  }
  const data = (await response.json()) as Partial<ApiValidation>;
  if (typeof data.ok !== "boolean" || !Array.isArray(data.problems)) {
    throw new TemplateApiUnavailable("the MedRemind API gave an unexpected answer");
  }
  return {
    ok: data.ok,
    problems: data.problems.map(String),
    preview: typeof data.preview === "string" ? data.preview : null,
    length: typeof data.length === "number" ? data.length : null,
    segments: typeof data.segments === "number" ? data.segments : null,
    encoding: typeof data.encoding === "string" ? data.encoding : null,
  };
}

async function problemList(response: Response): Promise<string[]> {
  try {
    // The API's error document: {"error": {"status", "code", "reason", "field"?}}; a template
    // that cannot be saved also lists every problem ("problems"), each naming its line.
    const data = (await response.json()) as {
      error?: { reason?: unknown; field?: unknown };
      problems?: unknown;
    };
    if (Array.isArray(data.problems) && data.problems.length > 0) return data.problems.map(String);
    const reason = data.error?.reason;
    const field = data.error?.field;
    if (typeof reason === "string") return [typeof field === "string" ? `${field} ${reason}` : reason];
  } catch {
    // Not JSON: fall through to the generic text.
  }
  return ["The MedRemind API refused this text."];
}

/** What `POST /api/v1/templates/preview` answered: the text as the worker will send it. */
export interface ApiPreview {
  text: string;
  channel: string;
  /** "clinic": the clinic's automatic version; "builtin": MedRemind's own text. */
  source: "clinic" | "builtin";
  template: { name: string; locale: string; channel: string } | null;
  /** Why the clinic's version was not used although it exists (it failed its checks). */
  note: string | null;
  length: number;
  segments: number;
  encoding: string;
}

/** The fields of a preview request (the message and the values the worker would fill in). */
export interface PreviewInput {
  kind: string;
  locale: string;
  channel: string;
  timezone: string;
  values: Record<string, string | number | null>;
  name_medicine: boolean;
  versions: { name: string; locale: string; channel: string; body: string; subject: string | null }[];
}

/**
 * Render a message with the Python API exactly as the worker will (its template resolution and
 * fallback); null when the API is not configured. Throws TemplateApiUnavailable otherwise.
 */
export async function previewWithApi(input: PreviewInput): Promise<ApiPreview | null> {
  const base = process.env.MEDREMIND_API_URL?.trim();
  if (!base) return null;
  const key = process.env.MEDREMIND_API_KEY?.trim() ?? "";
  let response: Response;
  try {
    response = await fetch(`${base.replace(/\/+$/, "")}/api/v1/templates/preview`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify(input),
      cache: "no-store",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    throw new TemplateApiUnavailable("the MedRemind API did not answer");
  }
  if (!response.ok) {
    const problems = await problemList(response);
    throw new TemplateApiUnavailable(`the MedRemind API answered ${response.status}: ${problems.join("; ")}`, response.status);
  }
  const data = (await response.json()) as Partial<ApiPreview>;
  if (typeof data.text !== "string" || (data.source !== "clinic" && data.source !== "builtin")) {
    throw new TemplateApiUnavailable("the MedRemind API gave an unexpected answer");
  }
  return {
    text: data.text,
    channel: String(data.channel ?? input.channel),
    source: data.source,
    template: data.template ?? null,
    note: typeof data.note === "string" ? data.note : null,
    length: Number(data.length ?? data.text.length),
    segments: Number(data.segments ?? 1),
    encoding: String(data.encoding ?? ""),
  };
}
