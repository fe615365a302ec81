import { ActionForm } from "@/components/ActionForm";
import { FreshUnlessEdited } from "@/components/FreshUnlessEdited";
import { CATEGORY_LABELS, type Preferences } from "@/lib/data/preferences";
import type { FormState } from "@/lib/form-state";
import { offsetsInput, offsetsLabel } from "@/lib/offsets";

interface Props {
  patientId: string;
  prefs: Preferences;
  /** The patient's usable channels, for "send this category by". */
  channels: string[];
  action: (previous: FormState, formData: FormData) => Promise<FormState>;
  /** The `at` of the page's address after this form's last save or refusal (a redirect). */
  savedAt?: string;
}

function patientSays(choice: "in" | "out" | null): string {
  if (choice === "out") return "The patient opted out";
  if (choice === "in") return "The patient opted in";
  return "The patient has not chosen";
}

/**
 * Which messages the patient gets, on which channel, and when appointment reminders come. The
 * patient's own choice is shown, never editable: a clinic cannot override an opt-out.
 */
export function PreferencesPanel({ patientId, prefs, channels, action, savedAt }: Props) {
  const version = JSON.stringify([prefs.rows, prefs.offsets, channels]);
  return (
    <FreshUnlessEdited version={version} savedAt={savedAt}>
    <ActionForm action={action} errorId="preferences-error" data-testid="preferences-form">
      <input type="hidden" name="patient_id" value={patientId} />
      {/* What this page showed: the action writes only what the clinician changed, and refuses a
          change of something another tab or a colleague changed since (a stale tab's Save put
          every category back as it had loaded them). */}
      {prefs.rows.map((row) => (
        <span key={row.category} hidden>
          <input type="hidden" name={`shown_choice_${row.category}`} value={row.clinic_choice ?? ""} />
          <input type="hidden" name={`shown_channel_${row.category}`} value={row.channel ?? ""} />
        </span>
      ))}
      <input type="hidden" name="shown_offsets" value={offsetsInput(prefs.offsets)} />
      <div className="table-wrap">
        <table>
          <caption className="muted">The patient&apos;s own choice (in the bot&apos;s /settings) always wins.</caption>
          <thead>
            <tr>
              <th scope="col">Messages</th>
              <th scope="col">Now</th>
              <th scope="col">Patient&apos;s choice</th>
              <th scope="col">Clinic&apos;s choice</th>
              <th scope="col">Send by</th>
            </tr>
          </thead>
          <tbody>
            {prefs.rows.map((row) => (
              <tr key={row.category} data-testid={`pref-${row.category}`}>
                <th scope="row">{CATEGORY_LABELS[row.category]}</th>
                <td>
                  <span className={`badge ${row.opted_out ? "bad" : "ok"}`}>{row.opted_out ? "off" : "on"}</span>
                </td>
                <td className="muted">{patientSays(row.patient_choice)}</td>
                <td>
                  <label className="visually-hidden" htmlFor={`choice-${row.category}`}>
                    Clinic&apos;s choice for {CATEGORY_LABELS[row.category]}
                  </label>
                  <select id={`choice-${row.category}`} name={`choice_${row.category}`} defaultValue={row.clinic_choice ?? ""}>
                    <option value="">No choice (on)</option>
                    <option value="in">On</option>
                    <option value="out">Off</option>
                  </select>
                  {row.patient_choice === "out" && row.clinic_choice !== "out" ? (
                    <div className="hint">Stays off: the patient opted out.</div>
                  ) : null}
                </td>
                <td>
                  <label className="visually-hidden" htmlFor={`channel-${row.category}`}>
                    Channel for {CATEGORY_LABELS[row.category]}
                  </label>
                  <select id={`channel-${row.category}`} name={`channel_${row.category}`} defaultValue={row.channel ?? ""}>
                    <option value="">Patient&apos;s channel order</option>
                    {channels.map((c) => (
                      <option key={c} value={c}>{c}</option>
                    ))}
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="field">
        <label htmlFor="pref-offsets">Appointment reminders, before the appointment</label>
        <input
          id="pref-offsets"
          name="offsets"
          defaultValue={offsetsInput(prefs.offsets)}
          placeholder={`clinic's: ${offsetsLabel(prefs.clinicOffsets)}`}
          aria-describedby="pref-offsets-hint"
        />
        <p className="hint" id="pref-offsets-hint">
          Hours (24h 2h), minutes (30m) or days (2d), as in Settings; empty for the clinic&apos;s times ({offsetsLabel(prefs.clinicOffsets)}).
          An appointment&apos;s own times, when it has them, come first. Upcoming reminders are planned again within a minute.
        </p>
      </div>
      <button type="submit">Save preferences</button>
    </ActionForm>
    </FreshUnlessEdited>
  );
}
