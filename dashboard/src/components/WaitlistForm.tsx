"use client";

import { useActionState } from "react";
import { useSessionEndedAnswer } from "@/lib/session-signal";
import { PatientOptions, PickerLimitHint } from "@/components/PatientOptions";
import type { LabelFields } from "@/lib/patient-label";
import { errorMessage } from "@/lib/errors";
import { type FormState, fieldProblem } from "@/lib/form-state";

interface Props {
  action: (previous: FormState, formData: FormData) => Promise<FormState>;
  patients: LabelFields[];
  /** How many patients the clinic has (more than `patients` past the picker's limit). */
  patientTotal: number;
  /** The patient whose page opened the form (`?patient=`), chosen to start with. */
  patient: string | null;
}

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const ERROR_ID = "waitlist-error";
const HOURS_HINT_ID = "wl-hours-hint";

/**
 * Put a patient on the waitlist. A refusal names the field and keeps the patient, days, hours and
 * note chosen (the defaults are what the server sent back; selects are keyed, since React applies
 * a select's defaultValue only when it mounts).
 */
export function WaitlistForm({ action, patients, patientTotal, patient }: Props) {
  const [state, formAction, pending] = useActionState(action, {});
  useSessionEndedAnswer(state.error);
  const value = (name: string, fallback = "") => state.values?.[name] ?? fallback;
  // A patient sent back that the list does not hold: none chosen, not the browser's first.
  const typedPatient = value("patient_id", patient ?? "");
  const chosenPatient = patients.some((p) => p.id === typedPatient) ? typedPatient : "";
  const days = new Set(value("days").split(","));
  const problem = (name: string) => fieldProblem(state, name, ERROR_ID);
  // Every other time on the dashboard is the clinic's; these are the patient's (the planner
  // matches a freed slot in the patient's timezone), so each hour field says so.
  const hours = (name: string) => {
    const marked = problem(name);
    return { ...marked, "aria-describedby": [marked["aria-describedby"], HOURS_HINT_ID].filter(Boolean).join(" ") };
  };
  const error = errorMessage(state.error);
  return (
    <form action={formAction} className="panel" aria-labelledby="wl-add-h">
      <h2 id="wl-add-h">Add a patient</h2>
      {error ? (
        <p role="alert" className="alert" id={ERROR_ID} data-testid="waitlist-error">
          {error}
        </p>
      ) : null}
      <div className="row">
        <div className="field">
          <label htmlFor="wl-patient">Patient</label>
          <select
            key={chosenPatient}
            id="wl-patient"
            name="patient_id"
            defaultValue={chosenPatient}
            required
            {...problem("patient_id")}
          >
            <PatientOptions patients={patients} />
          </select>
          <PickerLimitHint listed={patients.length} total={patientTotal} button="Waitlist" />
        </div>
        <fieldset className="field checks">
          <legend>Days that suit (none: any day)</legend>
          {DAYS.map((d, i) => (
            <label key={d}>
              <input type="checkbox" name="days" value={i + 1} defaultChecked={days.has(String(i + 1))} /> {d}
            </label>
          ))}
        </fieldset>
        <div className="field" style={{ flexBasis: 120 }}>
          <label htmlFor="wl-earliest">From</label>
          <input id="wl-earliest" name="earliest" type="time" defaultValue={value("earliest")} {...hours("earliest")} />
        </div>
        <div className="field" style={{ flexBasis: 120 }}>
          <label htmlFor="wl-latest">Until</label>
          <input id="wl-latest" name="latest" type="time" defaultValue={value("latest")} {...hours("latest")} />
        </div>
        <p id={HOURS_HINT_ID} className="hint" style={{ flexBasis: "100%" }} data-testid="waitlist-hours-hint">
          Days and hours are the patient&apos;s own, in their timezone (shown on their page), not the clinic&apos;s.
          Until before From is overnight, until then the next day (a day ticked is the night&apos;s first).
        </p>
        <div className="field">
          <label htmlFor="wl-note">Note</label>
          <input id="wl-note" name="note" maxLength={200} defaultValue={value("note")} {...problem("note")} />
        </div>
        <div className="field">
          <button type="submit" disabled={pending}>
            Add to waitlist
          </button>
        </div>
      </div>
    </form>
  );
}
