import { AskFirst } from "@/components/AskFirst";

interface Props {
  action: (formData: FormData) => Promise<void>;
  id: string;
  backPatient: string;
  patientName: string;
  /** When the appointment starts, as the row shows it. */
  when: string;
}

/**
 * Cancel an appointment in two steps (components/AskFirst.tsx): the first button asks, the second
 * cancels. Cancelling cannot be undone and the patient is told within a minute (the planner sends
 * the cancellation notice); one click in the table did it at once, so a misplaced click told a
 * patient their appointment was off.
 */
export function CancelAppointment({ action, id, backPatient, patientName, when }: Props) {
  return (
    <AskFirst
      action={action}
      fields={{ id, back_patient: backPatient }}
      label="Cancel"
      ariaLabel={`Cancel appointment of ${patientName}`}
      className="danger"
      questionLabel={`Cancel appointment of ${patientName}?`}
      question={
        <>
          Cancel {patientName}&apos;s appointment of {when}? The patient is told within a minute, as their settings allow; this cannot be undone.
        </>
      }
      confirmLabel="Yes, cancel it"
      keepLabel="Keep it"
      testId="cancel-confirm"
    />
  );
}
