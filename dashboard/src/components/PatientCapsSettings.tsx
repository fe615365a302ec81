"use client";

import { useActionState } from "react";
import { useSessionEndedAnswer } from "@/lib/session-signal";
import type { FormState } from "@/lib/form-state";
import {
  PATIENT_CAP_MAX,
  PATIENT_CAP_WINDOWS,
  type PatientCapWindow,
  ownCap,
  patientCapField,
  patientCapsProblem,
  patientCapsSummary,
} from "@/lib/patient-caps";

/**
 * The settings page's section for the clinic's own cap on its messages per patient (lib/patient-caps.ts).
 * Everyone sees the caps in effect; only an admin gets the form (the database refuses anyone
 * else, and values out of bounds, migration 20260101018360). A refusal names the field and keeps
 * what was typed, as the peak settings' form does.
 */
export function PatientCapsSettings({
  caps,
  inEffect,
  isAdmin,
  action,
  saved,
}: {
  caps: Record<string, unknown>;
  inEffect: Record<PatientCapWindow, number>;
  isAdmin: boolean;
  action: (previous: FormState, form: FormData) => Promise<FormState>;
  saved: boolean;
}) {
  const [state, formAction, pending] = useActionState(action, {});
  useSessionEndedAnswer(state.error);
  const problem = patientCapsProblem(state.error ?? null);
  const typed = state.values;
  const invalid = (field: string) => (problem && state.field === field ? true : undefined);
  return (
    <section id="patient-caps" className="panel" style={{ maxWidth: 640, marginTop: "1.5rem" }} aria-labelledby="patient-caps-title">
      <h2 id="patient-caps-title">Messages per patient</h2>
      <p className="muted" data-testid="patient-caps-summary">
        {patientCapsSummary(caps, inEffect)}
      </p>
      {problem ? (
        <p role="alert" className="alert" id="patient-caps-error" data-testid="patient-caps-error">
          {problem}
        </p>
      ) : null}
      {saved && !state.error ? (
        <p role="status" className="notice" data-testid="patient-caps-saved">
          Caps saved: they apply to the next message your clinic creates.
        </p>
      ) : null}
      {!isAdmin ? (
        <p className="hint" data-testid="patient-caps-readonly">Only an admin of the clinic can change these.</p>
      ) : (
        <form action={formAction} data-testid="patient-caps-form" key={JSON.stringify(typed ?? null)}>
          <div className="row">
            {(Object.keys(PATIENT_CAP_WINDOWS) as PatientCapWindow[]).map((window) => {
              const id = patientCapField(window);
              return (
                <div className="field" key={window}>
                  <label htmlFor={id}>Most messages per patient {PATIENT_CAP_WINDOWS[window]}</label>
                  <input
                    id={id}
                    name={id}
                    type="number"
                    min={1}
                    max={PATIENT_CAP_MAX[window]}
                    step={1}
                    inputMode="numeric"
                    placeholder={`${inEffect[window]} (default)`}
                    defaultValue={typed ? typed[id] : ownCap(caps, window)}
                    aria-invalid={invalid(id)}
                    aria-describedby={["patient-caps-hint", invalid(id) ? "patient-caps-error" : undefined].filter(Boolean).join(" ")}
                  />
                </div>
              );
            })}
          </div>
          <p id="patient-caps-hint" className="hint">
            1 to {PATIENT_CAP_MAX.hour} in an hour and 1 to {PATIENT_CAP_MAX.day} in 24 hours, counted over every message your
            clinic writes to the patient (Compose and the API; not the reminders). Blank: the service&apos;s default. The cap
            cannot be turned off here: it keeps one patient from being sent a message over and over.
          </p>
          <button type="submit" disabled={pending}>
            Save caps
          </button>
        </form>
      )}
    </section>
  );
}
