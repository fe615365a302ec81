import { type LabelFields, distinctLabels } from "@/lib/patient-label";

/**
 * The options of a patient select: a disabled "Choose a patient" first, then each patient by
 * name, an unnamed one as "Unnamed patient" and patients who share a name with what tells them
 * apart (lib/patient-label.ts distinctLabels).
 */
export function PatientOptions({ patients }: { patients: LabelFields[] }) {
  const labels = distinctLabels(patients);
  return (
    <>
      <option value="" disabled>
        Choose a patient
      </option>
      {patients.map((p) => (
        <option key={p.id} value={p.id}>
          {labels.get(p.id)}
        </option>
      ))}
    </>
  );
}

/**
 * Under a patient select that cannot list the whole clinic (lib/data/patients.ts
 * PATIENT_PICKER_LIMIT): says so and how to reach the others, the patient's own page, which opens
 * this form with them chosen (`button`: the name of that page's link). Nothing when all are listed.
 */
export function PickerLimitHint({ listed, total, button }: { listed: number; total: number; button: string }) {
  if (total <= listed) return null;
  return (
    <p className="hint" data-testid="picker-limit">
      {listed} of the clinic&apos;s {total} patients are listed, the first by name. For another patient, find them
      in Patients and choose {button} on their page.
    </p>
  );
}
