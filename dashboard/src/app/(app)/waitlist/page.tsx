import type { Metadata } from "next";
import Link from "next/link";
import { requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { patientOptions } from "@/lib/data/patients";
import { listWaitlist, recentOffers } from "@/lib/data/waitlist";
import { errorMessage } from "@/lib/errors";
import { formatInZone } from "@/lib/time";
import { waitlistHoursLabel } from "@/lib/waitlist-hours";
import { WaitlistForm } from "@/components/WaitlistForm";
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
  // Opened from a patient's page (?patient=): that patient is chosen, and listed however many
  // patients the clinic has.
  const patient = typeof params.patient === "string" && isUuid(params.patient) ? params.patient : null;
  const { entries, offers, picker } = await asClinician(clinician.id, async (tx) => ({
    entries: await listWaitlist(tx),
    offers: await recentOffers(tx),
    picker: await patientOptions(tx, patient),
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
      <WaitlistForm action={addToWaitlistAction} patients={picker.patients} patientTotal={picker.total} patient={patient} />
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
                <td data-testid="waitlist-hours">
                  {waitlistHoursLabel(e.earliest, e.latest)}
                  {/* The patient's days and hours: their zone named when it is not the clinic's. */}
                  {(e.earliest || e.latest || e.days_of_week) && e.patient_timezone !== tz ? (
                    <div className="muted">patient&apos;s time ({e.patient_timezone})</div>
                  ) : null}
                </td>
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
