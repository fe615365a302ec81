"use client";

import { useRef, useState } from "react";

interface Props {
  action: (formData: FormData) => Promise<void>;
  id: string;
  backPatient: string;
  patientName: string;
  /** When the appointment starts, as the row shows it. */
  when: string;
}

/**
 * Cancel an appointment in two steps: the first button asks, the second cancels. Cancelling
 * cannot be undone and the patient is told within a minute (the planner sends the cancellation
 * notice); one click in the table did it at once, so a misplaced click told a patient their
 * appointment was off. Keyboard: Enter on Cancel moves focus to the question's first button,
 * Keep it returns it.
 */
export function CancelAppointment({ action, id, backPatient, patientName, when }: Props) {
  const [asking, setAsking] = useState(false);
  const ask = useRef<HTMLButtonElement>(null);
  const confirm = useRef<HTMLButtonElement>(null);
  if (!asking) {
    return (
      <button
        ref={ask}
        type="button"
        className="danger"
        aria-label={`Cancel appointment of ${patientName}`}
        onClick={() => {
          setAsking(true);
          requestAnimationFrame(() => confirm.current?.focus());
        }}
      >
        Cancel
      </button>
    );
  }
  return (
    <form action={action} role="group" aria-label={`Cancel appointment of ${patientName}?`} data-testid="cancel-confirm">
      <input type="hidden" name="id" value={id} />
      <input type="hidden" name="back_patient" value={backPatient} />
      <p className="hint" style={{ marginTop: 0 }}>
        Cancel {patientName}&apos;s appointment of {when}? The patient is told within a minute, as their settings allow; this cannot be undone.
      </p>
      <div className="row">
        <button ref={confirm} type="submit" className="danger">
          Yes, cancel it
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setAsking(false);
            requestAnimationFrame(() => ask.current?.focus());
          }}
        >
          Keep it
        </button>
      </div>
    </form>
  );
}
