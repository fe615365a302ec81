import type { Metadata } from "next";
import Link from "next/link";
import { AppointmentForm } from "@/components/AppointmentForm";
import { StatusBadge } from "@/components/StatusBadge";
import { requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { listAppointments } from "@/lib/data/appointments";
import { patientOptions } from "@/lib/data/patients";
import { errorMessage } from "@/lib/errors";
import { formatInZone, localInputValue } from "@/lib/time";
import {
  appointmentOutcomeAction,
  cancelAppointmentAction,
  createAppointmentAction,
  rescheduleAppointmentAction,
} from "./actions";

export const metadata: Metadata = { title: "Appointments" };

export default async function AppointmentsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const clinician = await requireClinician();
  const params = await searchParams;
  const patient = typeof params.patient === "string" && isUuid(params.patient) ? params.patient : null;
  const { appointments, patients } = await asClinician(clinician.id, async (tx) => ({
    appointments: await listAppointments(tx, patient),
    patients: await patientOptions(tx),
  }));
  const error = errorMessage(params.error);
  const tz = clinician.timezone;
  const tomorrow = localInputValue(new Date(Date.now() + 24 * 60 * 60 * 1000), tz);
  return (
    <>
      <h1>Appointments</h1>
      {error ? <p role="alert" className="alert" data-testid="appointments-error">{error}</p> : null}
      <AppointmentForm
        action={createAppointmentAction}
        patients={patients}
        patient={patient}
        timezone={tz}
        defaultStart={tomorrow}
        clinicianName={clinician.displayName}
      />
      <div className="panel table-wrap">
        <table>
          <caption>
            {patient ? "This patient's appointments" : "Appointments from the last 7 days on"} · times in {tz}
            {patient ? <> · <Link href="/appointments">show all</Link></> : null}
          </caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Patient</th>
              <th scope="col">Where</th>
              <th scope="col">Status</th>
              <th scope="col">Reschedule</th>
              <th scope="col"><span className="muted">Cancel</span></th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {appointments.map((a) => {
              const open = !["cancelled", "completed", "no_show"].includes(a.status);
              // From its start on, the clinic records whether the patient came (or corrects it).
              const started = a.status !== "cancelled" && new Date(a.starts_at).getTime() <= Date.now();
              return (
                <tr key={a.id} data-testid="appointment-row">
                  <td>{formatInZone(a.starts_at, tz)} · {a.duration_minutes} min</td>
                  <td><Link href={`/patients/${a.patient_id}`}>{a.patient_name ?? "Unnamed patient"}</Link></td>
                  <td>{a.location ?? "—"}{a.clinician_name ? <div className="muted">{a.clinician_name}</div> : null}</td>
                  <td><StatusBadge status={a.status} /></td>
                  <td>
                    {open ? (
                      <form action={rescheduleAppointmentAction} className="row">
                        <input type="hidden" name="id" value={a.id} />
                        <input type="hidden" name="back_patient" value={patient ?? ""} />
                        <div className="field" style={{ marginBottom: 0 }}>
                          <label htmlFor={`move-${a.id}`} className="muted" style={{ fontWeight: 400 }}>New time</label>
                          <input id={`move-${a.id}`} name="starts_at" type="datetime-local" defaultValue={localInputValue(a.starts_at, tz)} required />
                        </div>
                        <button type="submit" className="secondary">Move</button>
                      </form>
                    ) : null}
                  </td>
                  <td>
                    {open ? (
                      <form action={cancelAppointmentAction}>
                        <input type="hidden" name="id" value={a.id} />
                        <input type="hidden" name="back_patient" value={patient ?? ""} />
                        <button type="submit" className="danger" aria-label={`Cancel appointment of ${a.patient_name ?? "patient"}`}>Cancel</button>
                      </form>
                    ) : null}
                  </td>
                  <td>
                    {started ? (
                      <div className="row">
                        {(["completed", "no_show"] as const)
                          .filter((outcome) => outcome !== a.status)
                          .map((outcome) => (
                            <form key={outcome} action={appointmentOutcomeAction}>
                              <input type="hidden" name="id" value={a.id} />
                              <input type="hidden" name="outcome" value={outcome} />
                              <input type="hidden" name="back_patient" value={patient ?? ""} />
                              <button type="submit" className="secondary">
                                {outcome === "completed" ? "Attended" : "No-show"}
                              </button>
                            </form>
                          ))}
                      </div>
                    ) : null}
                  </td>
                </tr>
              );
            })}
            {appointments.length === 0 ? <tr><td colSpan={7} className="muted">No appointments.</td></tr> : null}
          </tbody>
        </table>
      </div>
    </>
  );
}
