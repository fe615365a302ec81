"use client";

import { useActionState, useEffect, useState } from "react";
import { useSessionEndedAnswer } from "@/lib/session-signal";
import { DURATION_MAX_MINUTES } from "@/lib/appointment-form";
import { PatientOptions, PickerLimitHint } from "@/components/PatientOptions";
import type { LabelFields } from "@/lib/patient-label";
import { errorMessage } from "@/lib/errors";
import { type FormState, fieldProblem } from "@/lib/form-state";
import { VALUE_MAX } from "@/lib/limits";
import { PatientTime } from "@/components/PatientTime";
import { wallTimeInstant } from "@/lib/time";

interface Props {
  action: (previous: FormState, formData: FormData) => Promise<FormState>;
  /** With their IANA zone: the form says the patient's own time of the start typed. */
  patients: (LabelFields & { timezone?: string })[];
  /** How many patients the clinic has (more than `patients` past the picker's limit). */
  patientTotal: number;
  /** The patient whose appointments the page shows, chosen in the form to start with. */
  patient: string | null;
  timezone: string;
  /** Tomorrow on the clinic's next whole hour (datetime-local form). */
  defaultStart: string;
  clinicianName: string;
}

const ERROR_ID = "appointment-error";

/**
 * A new appointment. A refusal (lib/appointment-form.ts, and a patient the clinic does not have)
 * names the field and how to fix it, marks it, and keeps everything typed (the page used to
 * redirect with a generic error and an empty form). The select is keyed by what came back: React
 * applies a select's defaultValue only when it mounts.
 */
export function AppointmentForm({ action, patients, patientTotal, patient, timezone, defaultStart, clinicianName }: Props) {
  const [state, formAction, pending] = useActionState(action, {});
  useSessionEndedAnswer(state.error);
  const typed = state.values;
  const value = (name: string, fallback: string) => typed?.[name] ?? fallback;
  const problem = (name: string) => fieldProblem(state, name, ERROR_ID);
  // A patient sent back that the list does not hold (another clinic's, or erased since): none
  // chosen, rather than the browser silently choosing the first patient of the list.
  const typedPatient = value("patient_id", patient ?? "");
  const chosenPatient = patients.some((p) => p.id === typedPatient) ? typedPatient : "";
  const error = errorMessage(state.error);
  // The patient and start as they stand (the fields keep their own values): the patient's own
  // time of that start is said under it, as the list says it once the appointment is made.
  const startTyped = value("starts_at", defaultStart);
  const [live, setLive] = useState({ patient: chosenPatient, start: startTyped });
  // A refusal puts the fields back as sent: follow them.
  useEffect(() => setLive({ patient: chosenPatient, start: startTyped }), [state, chosenPatient, startTyped]);
  const livePatient = patients.find((p) => p.id === live.patient);
  const liveStart = wallTimeInstant(live.start, timezone);
  return (
    <form
      action={formAction}
      className="panel"
      aria-labelledby="new-appt-h"
      data-testid="appointment-form"
      onChange={(e) => {
        const form = e.currentTarget;
        setLive({
          patient: (form.elements.namedItem("patient_id") as HTMLSelectElement | null)?.value ?? "",
          start: (form.elements.namedItem("starts_at") as HTMLInputElement | null)?.value ?? "",
        });
      }}
    >
      <h2 id="new-appt-h">New appointment</h2>
      {error ? (
        <p role="alert" className="alert" id={ERROR_ID} data-testid={ERROR_ID}>
          {error}
          {state.existing ? (
            <>
              {" "}
              <a href={`#appointment-${state.existing}`} data-testid="appointment-existing">
                See that appointment
              </a>
            </>
          ) : null}
        </p>
      ) : null}
      <input type="hidden" name="back_patient" value={patient ?? ""} />
      <div className="row">
        <div className="field">
          <label htmlFor="appt-patient">Patient</label>
          <select
            key={`${chosenPatient}:${state.error ?? ""}`}
            id="appt-patient"
            name="patient_id"
            defaultValue={chosenPatient}
            required
            {...problem("patient_id")}
          >
            <PatientOptions patients={patients} />
          </select>
          <PickerLimitHint listed={patients.length} total={patientTotal} button="Appointments" />
        </div>
        <div className="field">
          <label htmlFor="appt-time">Starts at ({timezone})</label>
          <input
            id="appt-time"
            name="starts_at"
            type="datetime-local"
            defaultValue={value("starts_at", defaultStart)}
            required
            {...problem("starts_at")}
          />
          {liveStart && livePatient ? <PatientTime at={liveStart} clinicZone={timezone} patientZone={livePatient.timezone} /> : null}
        </div>
        <div className="field" style={{ flexBasis: 120 }}>
          <label htmlFor="appt-duration">Minutes</label>
          <input
            id="appt-duration"
            name="duration_minutes"
            type="number"
            min={1}
            max={DURATION_MAX_MINUTES}
            defaultValue={value("duration_minutes", "30")}
            required
            {...problem("duration_minutes")}
          />
        </div>
        <div className="field">
          <label htmlFor="appt-location">Location</label>
          <input
            id="appt-location"
            name="location"
            maxLength={VALUE_MAX.location}
            defaultValue={value("location", "")}
            {...problem("location")}
          />
        </div>
        <div className="field">
          <label htmlFor="appt-clinician">Clinician</label>
          <input
            id="appt-clinician"
            name="clinician_name"
            maxLength={VALUE_MAX.clinician_name}
            defaultValue={value("clinician_name", clinicianName)}
            {...problem("clinician_name")}
          />
        </div>
        <div className="field">
          <button type="submit" disabled={pending}>
            Create appointment
          </button>
        </div>
      </div>
    </form>
  );
}
