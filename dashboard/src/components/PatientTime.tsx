import { patientTimeNote } from "@/lib/time";

/**
 * Under an appointment's time (the clinic's), the patient's own when their zone shows another wall
 * clock then: the clinic books in its own hours and sees what the patient's messages say too.
 */
export function PatientTime({
  at,
  clinicZone,
  patientZone,
}: {
  at: Date | string;
  clinicZone: string;
  patientZone: string | null | undefined;
}) {
  const note = patientTimeNote(at, clinicZone, patientZone);
  return note ? <div className="muted" data-testid="patient-time">{note}</div> : null;
}
