import { type LabelFields, patientLabel } from "@/lib/patient-label";

/**
 * The options of a patient select: a disabled "Choose a patient" first, then each patient by
 * name, an unnamed one as "Unnamed patient" with what tells them apart (lib/patient-label.ts).
 */
export function PatientOptions({ patients }: { patients: LabelFields[] }) {
  return (
    <>
      <option value="" disabled>
        Choose a patient
      </option>
      {patients.map((p) => (
        <option key={p.id} value={p.id}>
          {patientLabel(p)}
        </option>
      ))}
    </>
  );
}
