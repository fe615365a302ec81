"use client";

import { useActionState, useState } from "react";
import { useSessionEndedAnswer } from "@/lib/session-signal";
import { errorMessage } from "@/lib/errors";
import { type FormState, fieldProblem } from "@/lib/form-state";
import { VALUE_MAX } from "@/lib/limits";
import { HELD_ELSEWHERE_CODES } from "@/lib/address-held";

interface Props {
  action: (previous: FormState, formData: FormData) => Promise<FormState>;
  /** The clinic's timezone, the default for a new patient. */
  timezone: string;
}

const ERROR_ID = "patient-error";

/**
 * A new patient with one contact point. A refusal is shown above the fields with the field it
 * names marked; every field keeps what was typed: its default value is what the server sent back,
 * which React's reset of the form after the action restores.
 *
 * Telegram has no address field: a chat id typed in would reach whoever's chat it is, so the
 * patient links their own chat by opening an invite link made on their page (the server and the
 * database refuse a typed one too).
 */
export function NewPatientForm({ action, timezone }: Props) {
  const [state, formAction, pending] = useActionState(action, {});
  useSessionEndedAnswer(state.error);
  const value = (name: string, fallback = "") => state.values?.[name] ?? fallback;
  // The channel picked since the server's last answer (which resets it to what was sent).
  const [picked, setPicked] = useState<{ for: FormState; channel: string } | null>(null);
  const channel = picked?.for === state ? picked.channel : value("channel", "telegram");
  const problem = (name: string) => fieldProblem(state, name, ERROR_ID);
  const error = errorMessage(state.error);
  return (
    <form action={formAction} className="panel" style={{ maxWidth: 640 }}>
      {error ? (
        <p role="alert" className="alert" id={ERROR_ID} data-testid="patient-error">
          {error}
        </p>
      ) : null}
      <div className="field">
        <label htmlFor="display_name">Name</label>
        <input
          id="display_name"
          name="display_name"
          required
          maxLength={VALUE_MAX.patient_name}
          autoComplete="off"
          defaultValue={value("display_name")}
          {...problem("display_name")}
        />
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor="channel">Channel</label>
          {/* Keyed: React applies a select's defaultValue only when it mounts. */}
          <select
            key={value("channel", "telegram")}
            id="channel"
            name="channel"
            defaultValue={value("channel", "telegram")}
            onChange={(event) => setPicked({ for: state, channel: event.target.value })}
            {...problem("channel")}
            aria-describedby={
              [problem("channel")["aria-describedby"], channel === "telegram" ? "telegram-link-hint" : null]
                .filter(Boolean)
                .join(" ") || undefined
            }
          >
            <option value="telegram">Telegram</option>
            <option value="whatsapp">WhatsApp</option>
            <option value="sms">SMS</option>
            <option value="email">E-mail</option>
          </select>
        </div>
        {channel === "telegram" ? null : (
          <div className="field">
            <label htmlFor="address">Address</label>
            <input
              id="address"
              name="address"
              required
              autoComplete="off"
              defaultValue={value("address")}
              {...problem("address")}
              aria-describedby={state.field === "address" ? `${ERROR_ID} address-hint` : "address-hint"}
            />
            <p id="address-hint" className="hint">
              {channel === "email" ? "E-mail address." : "Phone number in +E.164 form, for example +447911123456."}
            </p>
          </div>
        )}
      </div>
      {channel !== "telegram" && HELD_ELSEWHERE_CODES.has(state.error ?? "") ? (
        // Offered only once told the address is held elsewhere (lib/address-held.ts).
        <div className="field" data-testid="invite-holder">
          <label className="radio">
            <input type="checkbox" name="invite_holder" id="invite_holder" />
            Register without it: the patient is created with no usable address; the address is
            kept only as an invitation to whoever has it, and nothing is sent to it for this patient
          </label>
        </div>
      ) : null}
      {state.error === "address_held_here" && state.existing ? (
        <p data-testid="held-by-own-patient">
          <a href={`/patients/${state.existing}`}>Open the patient of your clinic who has this address</a>
        </p>
      ) : null}
      {channel === "telegram" ? (
        <div className="field" data-testid="telegram-link">
          <p style={{ fontWeight: 600, margin: "0 0 0.25rem" }}>Telegram chat: linked by the patient</p>
          <p id="telegram-link-hint" style={{ margin: 0 }}>
            There is no chat id to type in (a wrong one would send this patient&apos;s reminders to a
            stranger). Create the patient, then press <strong>Make an invite link</strong> on their
            page. The patient opens the link, or scans its QR code, in Telegram and agrees: their chat
            is then linked.
          </p>
        </div>
      ) : null}
      <div className="row">
        <div className="field">
          <label htmlFor="timezone">Timezone</label>
          <input
            id="timezone"
            name="timezone"
            defaultValue={value("timezone", timezone)}
            {...problem("timezone")}
            aria-describedby={state.field === "timezone" ? `${ERROR_ID} tz-hint` : "tz-hint"}
          />
          <p id="tz-hint" className="hint">IANA name, for example Europe/Madrid.</p>
        </div>
        <div className="field">
          <label htmlFor="locale">Language</label>
          <select key={value("locale", "en")} id="locale" name="locale" defaultValue={value("locale", "en")}>
            <option value="en">English</option>
            <option value="es">Español</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="external_id">External id (optional)</label>
          <input
            id="external_id"
            name="external_id"
            maxLength={100}
            defaultValue={value("external_id")}
            {...problem("external_id")}
          />
        </div>
      </div>
      <div className="field">
        <label className="radio">
          <input type="checkbox" name="consent" id="consent" defaultChecked={value("consent") === "on"} />
          The patient agreed to receive reminders
        </label>
      </div>
      <button type="submit" disabled={pending}>
        Create patient
      </button>
    </form>
  );
}
