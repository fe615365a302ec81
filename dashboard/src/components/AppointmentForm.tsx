"use client";

import { useActionState, useEffect, useRef, useState } from "react";
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
  const startTyped = value("starts_at", defaultStart);
  return (
    <form action={formAction} className="panel" aria-labelledby="new-appt-h" data-testid="appointment-form">
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
          <LivePatientTime patients={patients} timezone={timezone} patient={chosenPatient} start={startTyped} sent={state} />
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

/**
 * The chosen patient's own time of the start as it is typed, said under it (as the list says it
 * once the appointment is made). It follows the form's fields with listeners of its own, so that
 * typing renders only this note: rendering the form again at each keystroke made React set each
 * input's type again (a script's forged submission, tests/dashboard/test_clinician_pass_e2e.py,
 * found its text field turned back into a number field).
 */
function LivePatientTime({
  patients,
  timezone,
  patient,
  start,
  sent,
}: {
  patients: (LabelFields & { timezone?: string })[];
  timezone: string;
  patient: string;
  start: string;
  /** The form's state: a refusal or a reset puts the fields back as sent; the note follows. */
  sent: FormState;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [live, setLive] = useState({ patient, start });
  useEffect(() => setLive({ patient, start }), [patient, start, sent]);
  useEffect(() => {
    const form = ref.current?.closest("form");
    if (!form) return;
    const follow = () =>
      setLive({
        patient: (form.elements.namedItem("patient_id") as HTMLSelectElement | null)?.value ?? "",
        start: (form.elements.namedItem("starts_at") as HTMLInputElement | null)?.value ?? "",
      });
    form.addEventListener("input", follow);
    form.addEventListener("change", follow);
    return () => {
      form.removeEventListener("input", follow);
      form.removeEventListener("change", follow);
    };
  }, []);
  const chosen = patients.find((p) => p.id === live.patient);
  const at = wallTimeInstant(live.start, timezone);
  return (
    <div ref={ref}>
      {at && chosen ? <PatientTime at={at} clinicZone={timezone} patientZone={chosen.timezone} /> : null}
    </div>
  );
}
