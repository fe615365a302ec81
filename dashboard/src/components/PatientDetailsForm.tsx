import { ActionForm } from "@/components/ActionForm";
import { FreshUnlessEdited } from "@/components/FreshUnlessEdited";
import type { FormState } from "@/lib/form-state";
import { VALUE_MAX } from "@/lib/limits";

interface Props {
  patientId: string;
  details: { display_name: string | null; locale: string; external_id: string | null };
  action: (previous: FormState, formData: FormData) => Promise<FormState>;
  /** The `at` of the page's address after this form's last save or refusal (a redirect). */
  savedAt?: string;
}

/**
 * The patient's name, language and external id. The page refreshes itself every 3 s: while the
 * clinician edits, the form keeps what it showed (FreshUnlessEdited), and says what it showed
 * (the hidden `shown_` fields), so its action writes only what was changed and refuses a change
 * of something changed meanwhile by someone else.
 */
export function PatientDetailsForm({ patientId, details, action, savedAt }: Props) {
  const shown = {
    display_name: details.display_name ?? "",
    locale: details.locale,
    external_id: details.external_id ?? "",
  };
  return (
    <FreshUnlessEdited version={JSON.stringify(shown)} savedAt={savedAt}>
      <ActionForm action={action} errorId="details-error" data-testid="details-form">
        <input type="hidden" name="patient_id" value={patientId} />
        <input type="hidden" name="shown_display_name" value={shown.display_name} />
        <input type="hidden" name="shown_locale" value={shown.locale} />
        <input type="hidden" name="shown_external_id" value={shown.external_id} />
        <div className="row">
          <div className="field">
            <label htmlFor="details-name">Name</label>
            <input id="details-name" name="display_name" required maxLength={VALUE_MAX.patient_name} autoComplete="off" defaultValue={shown.display_name} />
          </div>
          <div className="field">
            <label htmlFor="details-locale">Language</label>
            <select id="details-locale" name="locale" defaultValue={shown.locale === "es" ? "es" : "en"}>
              <option value="en">English</option>
              <option value="es">Español</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="details-external-id">External id (optional)</label>
            <input id="details-external-id" name="external_id" maxLength={100} autoComplete="off" defaultValue={shown.external_id} />
          </div>
        </div>
        <p className="hint">
          The time zone and the channels are the patient&apos;s (the bot&apos;s /settings) or the API&apos;s
          (<code>PATCH /api/v1/patients/{"{id}"}</code>): changing them plans the reminders again.
        </p>
        <button type="submit">Save details</button>
      </ActionForm>
    </FreshUnlessEdited>
  );
}
