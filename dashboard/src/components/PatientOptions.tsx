/** The options of a patient select: a disabled "Choose a patient" first, then each patient by name. */
export function PatientOptions({ patients }: { patients: { id: string; display_name: string | null }[] }) {
  return (
    <>
      <option value="" disabled>
        Choose a patient
      </option>
      {patients.map((p) => (
        <option key={p.id} value={p.id}>
          {p.display_name ?? p.id}
        </option>
      ))}
    </>
  );
}
