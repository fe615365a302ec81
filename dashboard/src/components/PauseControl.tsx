"use client";

import { startTransition, useActionState } from "react";
import { useSessionEndedAnswer } from "@/lib/session-signal";
import { errorMessage } from "@/lib/errors";
import { type FormState, fieldProblem } from "@/lib/form-state";
import { PAUSE_DAYS_MAX, PAUSE_FOR, type PauseFor, pauseProblem, pauseState } from "@/lib/pause-form";

const ERROR_ID = "pause-error";
// An option's label beside its radio, not a block above it (globals.css labels are blocks).
const OPTION = { display: "inline", fontWeight: 400, margin: 0 } as const;

/**
 * The patient page's pause (lib/pause-form.ts, app/(app)/patients/pause-action.ts): the current
 * state, a form to pause for a number of days, until a day or until resumed (or to change the end
 * of a pause on), and Resume. Both forms are submitted by hand, so a refusal keeps what was chosen
 * and names the field; the page's refresh every 3 s leaves what is being typed alone.
 */
export function PauseControl({
  patientId,
  paused,
  until,
  patientZone,
  clinicZone,
  today,
  configured,
  saved,
  action,
}: {
  patientId: string;
  paused: boolean;
  /** The pause's end (ISO 8601), null: until resumed. */
  until: string | null;
  patientZone: string;
  clinicZone: string;
  /** The patient's date today (YYYY-MM-DD): an end day must come after it. */
  today: string;
  /** Whether the MedRemind service is configured (MEDREMIND_API_URL): it makes the change. */
  configured: boolean;
  saved: "paused" | "resumed" | null;
  action: (previous: FormState, formData: FormData) => Promise<FormState>;
}) {
  const [state, formAction, pending] = useActionState(action, {});
  useSessionEndedAnswer(state.error);
  const problem = pauseProblem(state.error, today, patientZone, state.reason) ?? errorMessage(state.error);
  const typed = state.values;
  const chosen = (typed?.pause_for ?? "days") as PauseFor;
  const submit = (event: React.FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    startTransition(() => formAction(data));
  };
  const stateText = pauseState(paused, until === null ? null : new Date(until), patientZone, clinicZone);
  return (
    <>
      <p data-testid="pause-state" className={paused ? "notice warning" : "muted"}>
        {stateText ?? "Reminders are on."}
      </p>
      {saved && !state.error ? (
        <p role="status" className="notice" data-testid="pause-saved">
          {saved === "paused"
            ? "Paused: what was pending is withdrawn, and the patient is told (after their quiet hours, if in them)."
            : "Resumed: reminders are planned again from now, and the patient is told."}
        </p>
      ) : null}
      {problem ? (
        <p role="alert" className="alert" id={ERROR_ID} data-testid={ERROR_ID}>
          {problem}
        </p>
      ) : null}
      {!configured ? (
        <p className="hint" data-testid="pause-unavailable">
          Pausing needs the MedRemind service (MEDREMIND_API_URL is not set on the dashboard&apos;s server).
        </p>
      ) : (
        <div>
          {paused ? (
            <form onSubmit={submit} aria-busy={pending || undefined} data-testid="resume-form" className="inline-form">
              <input type="hidden" name="patient_id" value={patientId} />
              <input type="hidden" name="paused" value="false" />
              <button type="submit" className="secondary" disabled={pending}>
                Resume reminders
              </button>
            </form>
          ) : null}
          <form onSubmit={submit} aria-busy={pending || undefined} data-testid="pause-form">
            <input type="hidden" name="patient_id" value={patientId} />
            {/* minWidth 0: a fieldset is as wide as its widest line by default, and the patient
                page scrolled sideways at phone width (360 px: 23 px). */}
            <fieldset style={{ minWidth: 0 }}>
              <legend>{paused ? "Change how long they stay paused" : "Pause this patient's reminders"}</legend>
              <Choice value="days" chosen={chosen} problem={fieldProblem(state, "pause_for", ERROR_ID)}>
                <input
                  id="pause_days"
                  name="pause_days"
                  aria-label="Days"
                  type="number"
                  min={1}
                  max={PAUSE_DAYS_MAX}
                  step={1}
                  inputMode="numeric"
                  placeholder="3"
                  style={{ width: "6rem" }}
                  defaultValue={typed?.pause_days ?? ""}
                  {...fieldProblem(state, "pause_days", ERROR_ID)}
                />
                <span aria-hidden="true">days</span>
              </Choice>
              <Choice value="until" chosen={chosen}>
                <input
                  id="pause_until"
                  name="pause_until"
                  aria-label="Until"
                  type="date"
                  style={{ width: "auto" }}
                  defaultValue={typed?.pause_until ?? ""}
                  {...fieldProblem(state, "pause_until", ERROR_ID)}
                />
                <span className="muted">the day they come back, in the patient&apos;s time zone</span>
              </Choice>
              <Choice value="resumed" chosen={chosen} />
            </fieldset>
            <p className="hint" id="pause-hint">
              As the patient&apos;s own /pause: medication reminders, follow-ups, caregiver alerts and refill notices stop
              at once (a dose already due stays answerable); appointment reminders and your messages still go. A length
              ends at this time of day that many days on, a day when it begins in the patient&apos;s time zone
              ({patientZone}); then the reminders come back by themselves. The patient is told either way.
            </p>
            <button type="submit" disabled={pending}>
              {paused ? "Change the pause" : "Pause reminders"}
            </button>
          </form>
        </div>
      )}
    </>
  );
}

/** One "how long" option: its radio, its label and the field it takes (none for "until resumed"). */
function Choice({
  value,
  chosen,
  problem,
  children,
}: {
  value: PauseFor;
  chosen: PauseFor;
  problem?: ReturnType<typeof fieldProblem>;
  children?: React.ReactNode;
}) {
  const id = `pause_for_${value}`;
  return (
    // Wrapped: the date field and its hint do not fit one line at phone width.
    <div className="radio" style={{ flexWrap: "wrap" }}>
      <input type="radio" id={id} name="pause_for" value={value} defaultChecked={chosen === value} {...problem} />
      <label htmlFor={id} style={OPTION}>
        {children ? `${PAUSE_FOR[value]}:` : PAUSE_FOR[value]}
      </label>
      {children}
    </div>
  );
}
