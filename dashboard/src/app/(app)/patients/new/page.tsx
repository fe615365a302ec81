import { VALUE_MAX } from "@/lib/limits";
import type { Metadata } from "next";
import { requireClinician } from "@/lib/auth";
import { errorMessage } from "@/lib/errors";
import { createPatientAction } from "../actions";

export const metadata: Metadata = { title: "New patient" };

export default async function NewPatientPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const clinician = await requireClinician();
  const error = errorMessage((await searchParams).error);
  return (
    <>
      <h1>New patient</h1>
      <form action={createPatientAction} className="panel" style={{ maxWidth: 640 }}>
        {error ? <p role="alert" className="alert">{error}</p> : null}
        <div className="field">
          <label htmlFor="display_name">Name</label>
          <input id="display_name" name="display_name" required maxLength={VALUE_MAX.patient_name} autoComplete="off" />
        </div>
        <div className="row">
          <div className="field">
            <label htmlFor="channel">Channel</label>
            <select id="channel" name="channel" defaultValue="telegram">
              <option value="telegram">Telegram</option>
              <option value="whatsapp">WhatsApp</option>
              <option value="sms">SMS</option>
              <option value="email">E-mail</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="address">Address</label>
            <input id="address" name="address" required aria-describedby="address-hint" autoComplete="off" />
            <p id="address-hint" className="hint">
              Telegram chat id (digits), phone number in +E.164 form, or e-mail address.
            </p>
          </div>
        </div>
        <div className="row">
          <div className="field">
            <label htmlFor="timezone">Timezone</label>
            <input id="timezone" name="timezone" defaultValue={clinician.timezone} aria-describedby="tz-hint" />
            <p id="tz-hint" className="hint">IANA name, for example Europe/Madrid.</p>
          </div>
          <div className="field">
            <label htmlFor="locale">Language</label>
            <select id="locale" name="locale" defaultValue="en">
              <option value="en">English</option>
              <option value="es">Español</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="external_id">External id (optional)</label>
            <input id="external_id" name="external_id" maxLength={100} />
          </div>
        </div>
        <div className="field">
          <label className="radio">
            <input type="checkbox" name="consent" id="consent" />
            The patient agreed to receive reminders
          </label>
        </div>
        <button type="submit">Create patient</button>
      </form>
    </>
  );
}
