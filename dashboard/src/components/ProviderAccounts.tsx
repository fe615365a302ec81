import type { AccountChannel, AccountView } from "@/lib/provider-accounts";
import { ACCOUNT_CHANNELS, SECRET_FIELD } from "@/lib/account-fields";

/** How each field is asked for; secrets are password inputs that are never filled in. */
interface FieldSpec {
  name: string;
  label: string;
  hint?: string;
  type?: "text" | "password" | "number";
  secret?: boolean;
  options?: readonly string[];
}

const TITLES: Record<AccountChannel, string> = {
  sms: "SMS (Twilio)",
  whatsapp: "WhatsApp (Twilio)",
  email: "E-mail (SMTP)",
  telegram: "Telegram (the clinic's own bot)",
};

/** What a channel uses without the clinic's own account. */
const DEFAULTS: Record<AccountChannel, string> = {
  sms: "Default sender of the service",
  whatsapp: "Default sender of the service",
  email: "Default sender of the service",
  telegram: "The service's bots",
};

/** What saving or removing the account changes for patients, said before the admin does it. */
const EFFECTS: Partial<Record<AccountChannel, string>> = {
  telegram:
    "New patients of the clinic are invited to and enrolled on its own bot; patients who started one of the service's bots stay on it. Removing it stops Telegram messages to every patient who started it (the service cannot send through a bot it no longer has).",
};

const FORMS: Record<AccountChannel, readonly FieldSpec[]> = {
  sms: [
    { name: "account_sid", label: "Account SID", hint: "AC followed by 32 characters (Twilio Console)" },
    { name: "from_number", label: "Sender number", hint: "+E.164, e.g. +14155550123; patients reply to it" },
    { name: "messaging_service_sid", label: "Messaging service SID (optional)", hint: "MG...; sends from the service's numbers" },
    { name: "auth_token", label: "Auth token", type: "password", secret: true },
  ],
  whatsapp: [
    { name: "account_sid", label: "Account SID", hint: "AC followed by 32 characters" },
    { name: "from_number", label: "WhatsApp sender number", hint: "+E.164 of the approved WhatsApp sender" },
    { name: "auth_token", label: "Auth token", type: "password", secret: true },
  ],
  email: [
    { name: "host", label: "SMTP server", hint: "e.g. smtp.clinic.example" },
    { name: "port", label: "Port", type: "number", hint: "587 (STARTTLS) or 465 (TLS)" },
    { name: "security", label: "Security", options: ["starttls", "tls", "none"] },
    { name: "username", label: "User name (optional)" },
    { name: "from_address", label: "From address", hint: "e.g. Harbour Clinic <reminders@clinic.example>" },
    { name: "password", label: "Password", type: "password", secret: true },
  ],
  telegram: [
    {
      name: "token",
      label: "Bot token",
      type: "password",
      secret: true,
      hint: "From @BotFather (/newbot or /token), e.g. 123456789:AAE...; checked with Telegram before it is saved",
    },
  ],
};

function shown(account: AccountView | undefined, field: string): string {
  const value = account?.config[field];
  return value === undefined || value === null ? "" : String(value);
}

/** One line saying what a stored account sends from (no secret). */
export function accountSummary(account: AccountView): string {
  const c = account.config;
  if (account.channel === "telegram") {
    return c.username ? `Telegram bot @${String(c.username)} (id ${String(c.bot_id)})` : `Telegram bot id ${String(c.bot_id)}`;
  }
  if (account.channel === "email") return `SMTP ${c.host}:${c.port} (${c.security}) as ${c.from_address}`;
  return `Twilio ${c.account_sid} from ${c.from_number ?? c.messaging_service_sid}`;
}

/**
 * The settings page's provider accounts: what each channel sends from (the clinic's own account,
 * or the service's default), and for admins a form per channel. The secret is write-only: the
 * form never shows it back, only the masked hint of the stored one.
 */
export function ProviderAccounts({
  accounts,
  isAdmin,
  configured,
  focus,
  error,
  errorField,
  saved,
  action,
}: {
  action: (form: FormData) => Promise<void>;
  accounts: AccountView[];
  isAdmin: boolean;
  configured: boolean;
  focus: string | null;
  error: string | null;
  errorField: string | null;
  saved: string | null;
}) {
  const byChannel = new Map(accounts.map((a) => [a.channel, a]));
  return (
    <section id="accounts" className="panel" style={{ maxWidth: 640, marginTop: "1.5rem" }} aria-labelledby="accounts-title">
      <h2 id="accounts-title">Provider accounts</h2>
      <p className="muted">
        Without its own account a channel sends from the service&apos;s default sender. An account is checked with the
        provider before it is saved; its secret is stored encrypted and never shown again.
      </p>
      {!isAdmin ? <p className="hint">Only an admin of the clinic can change these.</p> : null}
      {isAdmin && !configured ? (
        <p role="alert" className="alert">
          Accounts cannot be saved: MEDREMIND_API_URL is not set on the dashboard&apos;s server.
        </p>
      ) : null}
      {ACCOUNT_CHANNELS.map((channel) => {
        const account = byChannel.get(channel);
        const here = focus === channel;
        return (
          <div key={channel} className="account" data-testid={`account-${channel}`}>
            <h3>{TITLES[channel]}</h3>
            <p data-testid={`account-${channel}-status`}>
              {account
                ? `Own account: ${accountSummary(account)}${
                    // A bot is known by its id and @username; no part of its token is shown.
                    channel === "telegram" ? "" : `; secret ${account.secret_hint}`
                  }; checked ${account.validated_at.toISOString().slice(0, 16).replace("T", " ")} UTC`
                : DEFAULTS[channel]}
            </p>
            {EFFECTS[channel] ? <p className="hint">{EFFECTS[channel]}</p> : null}
            {here && error ? (
              <p role="alert" className="alert" data-testid={`account-${channel}-error`}>
                {errorField ? `${FORMS[channel].find((f) => f.name === errorField)?.label ?? errorField}: ` : ""}
                {error}
              </p>
            ) : null}
            {here && saved ? (
              <p role="status" className="notice">
                {saved === "removed"
                  ? channel === "telegram"
                    ? "Removed: new patients are enrolled on the service's bots again."
                    : "Removed: the default sender is used again."
                  : "Saved and checked with the provider."}
              </p>
            ) : null}
            {isAdmin && configured ? (
              <form action={action} data-channel={channel}>
                <input type="hidden" name="channel" value={channel} />
                {FORMS[channel].map((field) => {
                  const id = `${channel}-${field.name}`;
                  const invalid = here && errorField === field.name;
                  return (
                    <div className="field" key={field.name}>
                      <label htmlFor={id}>{field.label}</label>
                      {field.options ? (
                        <select id={id} name={field.name} defaultValue={shown(account, field.name) || field.options[0]} aria-invalid={invalid || undefined}>
                          {field.options.map((o) => (
                            <option key={o} value={o}>{o}</option>
                          ))}
                        </select>
                      ) : (
                        <input
                          id={id}
                          name={field.name}
                          type={field.type ?? "text"}
                          autoComplete={field.secret ? "new-password" : "off"}
                          defaultValue={field.secret ? "" : shown(account, field.name)}
                          placeholder={
                            field.secret && account
                              ? channel === "telegram"
                                ? "stored; enter it again to change"
                                : `stored: ${account.secret_hint}`
                              : undefined
                          }
                          aria-invalid={invalid || undefined}
                          aria-describedby={field.hint ? `${id}-hint` : undefined}
                        />
                      )}
                      {field.hint ? <p id={`${id}-hint`} className="hint">{field.hint}</p> : null}
                    </div>
                  );
                })}
                <p className="hint">
                  The {FORMS[channel].find((f) => f.name === SECRET_FIELD[channel])?.label.toLowerCase()} is never shown again:
                  enter it with every change.
                </p>
                <div className="row">
                  <button type="submit">Check and save {TITLES[channel]}</button>
                  {account ? (
                    <button type="submit" name="remove" value="1" className="secondary" formNoValidate>
                      {channel === "telegram" ? "Remove the clinic's bot" : "Use the default sender"}
                    </button>
                  ) : null}
                </div>
              </form>
            ) : null}
          </div>
        );
      })}
    </section>
  );
}
