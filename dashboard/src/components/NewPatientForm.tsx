"use client";

import { useActionState } from "react";
import { errorMessage } from "@/lib/errors";
import { type FormState, fieldProblem } from "@/lib/form-state";
import { VALUE_MAX } from "@/lib/limits";

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
 */
export function NewPatientForm({ action, timezone }: Props) {
  const [state, formAction, pending] = useActionState(action, {});
  const value = (name: string, fallback = "") => state.values?.[name] ?? fallback;
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
            {...problem("channel")}
          >
            <option value="telegram">Telegram</option>
            <option value="whatsapp">WhatsApp</option>
            <option value="sms">SMS</option>
            <option value="email">E-mail</option>
          </select>
        </div>
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
            Telegram chat id (digits), phone number in +E.164 form, or e-mail address.
          </p>
        </div>
      </div>
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
