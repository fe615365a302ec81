"use client";

import { useActionState } from "react";
import { useSessionEndedAnswer } from "@/lib/session-signal";
import { errorMessage } from "@/lib/errors";
import { type FormState, fieldProblem } from "@/lib/form-state";
import { VALUE_MAX } from "@/lib/limits";

interface Props {
  action: (previous: FormState, formData: FormData) => Promise<FormState>;
  /** The values saved now, shown until a refusal sends back what was typed. */
  saved: { name: string; timezone: string; offsets: string; quiet_start: string; quiet_end: string };
  isAdmin: boolean;
  /** The clinic's frequency caps, in words. */
  caps: string;
}

const ERROR_ID = "settings-error";

/**
 * The clinic's defaults: name, timezone, appointment reminder offsets, default quiet hours. A
 * refusal names the field and keeps everything typed. A clinician who is not an admin sees the
 * values without being able to change them (the database would refuse it, migration 20260101009610).
 */
export function ClinicSettingsForm({ action, saved, isAdmin, caps }: Props) {
  const [state, formAction, pending] = useActionState(action, {});
  useSessionEndedAnswer(state.error);
  const value = (name: keyof Props["saved"]) => state.values?.[name] ?? saved[name];
  const problem = (name: string, hint?: string) => {
    const marked = fieldProblem(state, name, ERROR_ID);
    const describedBy = [hint, marked["aria-describedby"]].filter(Boolean).join(" ") || undefined;
    return { ...marked, "aria-describedby": describedBy };
  };
  const error = errorMessage(state.error);
  return (
    <form action={formAction} className="panel" style={{ maxWidth: 640 }} data-testid="settings-form">
      {error ? (
        <p role="alert" className="alert" id={ERROR_ID} data-testid="settings-error">
          {error}
        </p>
      ) : null}
      {isAdmin ? null : (
        <p className="notice" data-testid="settings-readonly">
          Only an admin of the clinic can change these.
        </p>
      )}
      <fieldset className="plain" disabled={!isAdmin}>
        <div className="field">
          <label htmlFor="name">Clinic name</label>
          <input id="name" name="name" defaultValue={value("name")} required maxLength={VALUE_MAX.clinic_name} {...problem("name")} />
        </div>
        <div className="field">
          <label htmlFor="timezone">Timezone</label>
          <input id="timezone" name="timezone" defaultValue={value("timezone")} required {...problem("timezone", "tz-hint")} />
          <p id="tz-hint" className="hint">IANA name, for example Europe/Madrid; compose and appointment times are entered in it.</p>
        </div>
        <div className="field">
          <label htmlFor="offsets">Appointment reminders, before the appointment</label>
          <input
            id="offsets"
            name="offsets"
            defaultValue={value("offsets")}
            {...problem("offsets", "offsets-hint")}
          />
          <p id="offsets-hint" className="hint">Hours (24h 2h), minutes (30m) or days (2d), as on a patient&apos;s page; for example 24h 2h: a day and two hours before. Empty: no reminders.</p>
        </div>
        <div className="row">
          <div className="field">
            <label htmlFor="quiet_start">Default quiet hours start</label>
            <input
              id="quiet_start"
              name="quiet_start"
              type="time"
              defaultValue={value("quiet_start")}
              required
              {...problem("quiet_start", "quiet-hint")}
            />
          </div>
          <div className="field">
            <label htmlFor="quiet_end">Default quiet hours end</label>
            <input
              id="quiet_end"
              name="quiet_end"
              type="time"
              defaultValue={value("quiet_end")}
              required
              {...problem("quiet_end", "quiet-hint")}
            />
          </div>
        </div>
        <p id="quiet-hint" className="hint" data-testid="quiet-hint">
          In each patient&apos;s own timezone, messages that are not urgent wait until the quiet hours end. Midnight to
          midnight (00:00 to 00:00, shown 12:00 AM on a 12-hour clock) means no quiet hours.
        </p>
        <p className="muted">Frequency caps: {caps}</p>
        {isAdmin ? (
          <button type="submit" disabled={pending}>
            Save settings
          </button>
        ) : null}
      </fieldset>
    </form>
  );
}
