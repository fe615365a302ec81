import type { Metadata } from "next";
import Link from "next/link";
import { requireClinician } from "@/lib/auth";
import { asClinician } from "@/lib/db";
import { patientOptions } from "@/lib/data/patients";
import { listWaitlist, recentOffers } from "@/lib/data/waitlist";
import { errorMessage } from "@/lib/errors";
import { formatInZone } from "@/lib/time";
import { addToWaitlistAction, removeFromWaitlistAction } from "./actions";

export const metadata: Metadata = { title: "Waitlist" };

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

export default async function WaitlistPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const clinician = await requireClinician();
  const params = await searchParams;
  const { entries, offers, patients } = await asClinician(clinician.id, async (tx) => ({
    entries: await listWaitlist(tx),
    offers: await recentOffers(tx),
    patients: await patientOptions(tx),
  }));
  const error = errorMessage(params.error);
  const tz = clinician.timezone;
  return (
    <>
      <h1>Waitlist</h1>
      <p className="muted">
        When an upcoming appointment is cancelled, its slot is offered to the waiting patients whose
        days and hours fit (in their own timezone); the first to accept gets it, the others are told it is gone.
      </p>
      {error ? <p role="alert" className="alert">{error}</p> : null}
      <form action={addToWaitlistAction} className="panel" aria-labelledby="wl-add-h">
        <h2 id="wl-add-h">Add a patient</h2>
        <div className="row">
          <div className="field">
            <label htmlFor="wl-patient">Patient</label>
            <select id="wl-patient" name="patient_id" defaultValue="" required>
              <option value="" disabled>Choose a patient</option>
              {patients.map((p) => (
                <option key={p.id} value={p.id}>{p.display_name ?? p.id}</option>
              ))}
            </select>
          </div>
          <fieldset className="field checks">
            <legend>Days that suit (none: any day)</legend>
            {DAYS.map((d, i) => (
              <label key={d}>
                <input type="checkbox" name="days" value={i + 1} /> {d}
              </label>
            ))}
          </fieldset>
          <div className="field" style={{ flexBasis: 120 }}>
            <label htmlFor="wl-earliest">From</label>
            <input id="wl-earliest" name="earliest" type="time" />
          </div>
          <div className="field" style={{ flexBasis: 120 }}>
            <label htmlFor="wl-latest">Until</label>
            <input id="wl-latest" name="latest" type="time" />
          </div>
          <div className="field">
            <label htmlFor="wl-note">Note</label>
            <input id="wl-note" name="note" maxLength={200} />
          </div>
          <div className="field"><button type="submit">Add to waitlist</button></div>
        </div>
      </form>
      <div className="panel table-wrap">
        <table>
          <caption>Waiting, first come first</caption>
          <thead>
            <tr>
              <th scope="col">Patient</th>
              <th scope="col">Days</th>
              <th scope="col">Hours</th>
              <th scope="col">Note</th>
              <th scope="col">Since</th>
              <th scope="col"><span className="muted">Remove</span></th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id} data-testid="waitlist-row">
                <td><Link href={`/patients/${e.patient_id}`}>{e.patient_name ?? "Unnamed patient"}</Link></td>
                <td>{e.days_of_week ? e.days_of_week.map((d) => DAYS[d - 1]).join(", ") : "Any day"}</td>
                <td>{e.earliest || e.latest ? `${e.earliest ?? "…"}–${e.latest ?? "…"}` : "Any time"}</td>
                <td>{e.note ?? ""}</td>
                <td>{formatInZone(e.created_at, tz)}</td>
                <td>
                  <form action={removeFromWaitlistAction}>
                    <input type="hidden" name="id" value={e.id} />
                    <button type="submit" className="secondary" aria-label={`Remove ${e.patient_name ?? "patient"} from the waitlist`}>Remove</button>
                  </form>
                </td>
              </tr>
            ))}
            {entries.length === 0 ? <tr><td colSpan={6} className="muted">Nobody is waiting.</td></tr> : null}
          </tbody>
        </table>
      </div>
      <div className="panel table-wrap">
        <table>
          <caption>Freed slots offered · times in {tz}</caption>
          <thead>
            <tr><th scope="col">Slot</th><th scope="col">Offered to</th><th scope="col">Status</th><th scope="col">Booked by</th></tr>
          </thead>
          <tbody>
            {offers.map((o) => (
              <tr key={o.id}>
                <td>{formatInZone(o.starts_at, tz)}</td>
                <td>{o.offered}</td>
                <td>{o.status}</td>
                <td>{o.booked_name ?? "—"}</td>
              </tr>
            ))}
            {offers.length === 0 ? <tr><td colSpan={4} className="muted">No slot has been offered yet.</td></tr> : null}
          </tbody>
        </table>
      </div>
    </>
  );
}
