/** The fields of a clinic's provider account forms (pure: unit-tested without a server). */

export const ACCOUNT_CHANNELS = ["sms", "whatsapp", "email", "telegram"] as const;
export type AccountChannel = (typeof ACCOUNT_CHANNELS)[number];

/** The fields each channel's form sends (the secret one last). */
export const ACCOUNT_FIELDS: Record<AccountChannel, readonly string[]> = {
  sms: ["account_sid", "from_number", "messaging_service_sid", "auth_token"],
  whatsapp: ["account_sid", "from_number", "auth_token"],
  email: ["host", "port", "security", "username", "from_address", "password"],
  // The clinic's own bot: only its token; the web process asks Telegram (getMe) for its id and
  // @username, which are what the page shows.
  telegram: ["token"],
};

/** The secret field of each channel: write-only, never filled in or shown back. */
export const SECRET_FIELD: Record<AccountChannel, string> = {
  sms: "auth_token",
  whatsapp: "auth_token",
  email: "password",
  telegram: "token",
};

export function isAccountChannel(value: unknown): value is AccountChannel {
  return typeof value === "string" && (ACCOUNT_CHANNELS as readonly string[]).includes(value);
}

/** The fields of a submitted form for `channel`: trimmed, empty ones left out. */
export function accountFields(channel: AccountChannel, form: FormData): Record<string, string | number> {
  const fields: Record<string, string | number> = {};
  for (const name of ACCOUNT_FIELDS[channel]) {
    const raw = form.get(name);
    const value = typeof raw === "string" ? raw.trim() : "";
    if (!value) continue;
    fields[name] = name === "port" && /^\d+$/.test(value) ? Number(value) : value;
  }
  return fields;
}
