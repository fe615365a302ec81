import type { Metadata } from "next";
import Link from "next/link";
import { AppointmentForm } from "@/components/AppointmentForm";
import { CancelAppointment } from "@/components/CancelAppointment";
import { CreatedNotice } from "@/components/CreatedNotice";
import { PatientTime } from "@/components/PatientTime";
import { StatusBadge } from "@/components/StatusBadge";
import { requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { getAppointment, listAppointments } from "@/lib/data/appointments";
import { patientOptions } from "@/lib/data/patients";
import { errorMessage } from "@/lib/errors";
import { formatInZone, localInputValue, tomorrowOnTheHour } from "@/lib/time";
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
  const createdId = typeof params.created === "string" && isUuid(params.created) ? params.created : null;
  // The appointment a refused move names (already at that time): outlined in the list.
  const named = typeof params.existing === "string" && isUuid(params.existing) ? params.existing : null;
  const { appointments, picker, created } = await asClinician(clinician.id, async (tx) => ({
    appointments: await listAppointments(tx, patient),
    picker: await patientOptions(tx, patient),
    created: createdId ? await getAppointment(tx, createdId) : null,
  }));
  const error = errorMessage(params.error);
  const tz = clinician.timezone;
  const tomorrow = tomorrowOnTheHour(new Date(), tz);
  // What was created, in words: the table below may not show it (another patient's page, or a
  // day more than a week ago).
  const createdMessage = created
    ? `Appointment created: ${created.patient_name ?? "Unnamed patient"}, ${formatInZone(created.starts_at, tz)}` +
      ` (${created.duration_minutes} min${created.location ? `, ${created.location}` : ""}).` +
      " Its confirmation and reminders are planned within a minute, as the patient's settings allow."
    : null;
  return (
    <>
      <h1>Appointments</h1>
      {error ? <p role="alert" className="alert" data-testid="appointments-error">{error}</p> : null}
      <CreatedNotice id={created && !error ? created.id : null} message={createdMessage} testId="appointment-created" />
      <AppointmentForm
        action={createAppointmentAction}
        patients={picker.patients}
        patientTotal={picker.total}
        patient={patient}
        timezone={tz}
        defaultStart={tomorrow}
        clinicianName={clinician.displayName}
      />
      <div className="panel table-wrap">
        {/* Roles spelled out: on a phone the rows are shown as blocks (globals.css), and some
            browsers drop a table's semantics when its display changes. */}
        <table className="stack-on-phone" role="table">
          <caption>
            {patient ? "This patient's appointments" : "Appointments from the last 7 days on"} · times in {tz}
            {patient ? <> · <Link href="/appointments">show all</Link></> : null}
          </caption>
          <thead role="rowgroup">
            <tr role="row">
              <th scope="col" role="columnheader">When</th>
              <th scope="col" role="columnheader">Patient</th>
              <th scope="col" role="columnheader">Where</th>
              <th scope="col" role="columnheader">Status</th>
              <th scope="col" role="columnheader">Reschedule</th>
              <th scope="col" role="columnheader"><span className="muted">Cancel</span></th>
              <th scope="col" role="columnheader">Outcome</th>
            </tr>
          </thead>
          <tbody role="rowgroup">
            {appointments.map((a) => {
              const open = !["cancelled", "completed", "no_show"].includes(a.status);
              // From its start on, the clinic records whether the patient came (or corrects it).
              const started = a.status !== "cancelled" && new Date(a.starts_at).getTime() <= Date.now();
              return (
                <tr key={a.id} id={`appointment-${a.id}`} data-testid="appointment-row" role="row" className={a.id === named ? "named" : undefined} data-named={a.id === named ? "true" : undefined}>
                  <td role="cell" data-label="When">
                    {formatInZone(a.starts_at, tz)} · {a.duration_minutes} min
                    <PatientTime at={a.starts_at} clinicZone={tz} patientZone={a.patient_timezone} />
                  </td>
                  <td role="cell" data-label="Patient"><Link href={`/patients/${a.patient_id}`}>{a.patient_name ?? "Unnamed patient"}</Link></td>
                  <td role="cell" data-label="Where"><div>{a.location ?? "—"}{a.clinician_name ? <div className="muted">{a.clinician_name}</div> : null}</div></td>
                  <td role="cell" data-label="Status"><div><StatusBadge status={a.status} /></div></td>
                  <td role="cell">
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
                  <td role="cell">
                    {open ? (
                      <CancelAppointment
                        action={cancelAppointmentAction}
                        id={a.id}
                        backPatient={patient ?? ""}
                        patientName={a.patient_name ?? "Unnamed patient"}
                        when={formatInZone(a.starts_at, tz)}
                      />
                    ) : null}
                  </td>
                  <td role="cell" data-label={started ? "Outcome" : undefined}>
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
            {appointments.length === 0 ? <tr role="row"><td role="cell" colSpan={7} className="muted">No appointments.</td></tr> : null}
          </tbody>
        </table>
      </div>
    </>
  );
}
