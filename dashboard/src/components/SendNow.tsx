import { AskFirst } from "@/components/AskFirst";

interface Props {
  action: (formData: FormData) => Promise<void>;
  id: string;
  filter: string;
  patientName: string;
  /** The message's scheduled time (epoch milliseconds): what the clinician confirms. */
  scheduledMs: number;
  /** Its time as the row shows it ("5 Dec 2026, 20:00"). */
  when: string;
  /** How early a send now is ("5 h 37 min"). */
  earlyBy: string;
  /** The patient's quiet hours still hold it (not urgent, not a dose's reminder). */
  quietHoursHold: boolean;
}

/**
 * Send a pending message now, in two steps (components/AskFirst.tsx): the first button asks,
 * naming the message's time and how early it would go; the second sends it, as confirmed (the
 * server refuses it if its time changed since), and saying when quiet hours still hold it (a
 * message that is not urgent waits for the end of the patient's night: "now" is not always now).
 * One click sent a reminder hours before its time.
 * A medication reminder before its dose's time gets no Send now at all (lib/send-now.ts).
 */
export function SendNow({ action, id, filter, patientName, scheduledMs, when, earlyBy, quietHoursHold }: Props) {
  return (
    <AskFirst
      action={action}
      fields={{ id, filter, confirmed_time: String(scheduledMs) }}
      label="Send now"
      ariaLabel={`Send now: message to ${patientName}`}
      className="secondary"
      questionLabel={`Send the message to ${patientName} now?`}
      question={
        <>
          It is due at {when}. Send it now, {earlyBy} early?
        </>
      }
      note={
        quietHoursHold
          ? "It is not urgent: if it is night for the patient (their quiet hours), it may wait until their quiet hours end."
          : null
      }
      confirmLabel="Yes, send now"
      confirmClassName=""
      keepLabel="Keep its time"
      testId="send-now-confirm"
    />
  );
}
