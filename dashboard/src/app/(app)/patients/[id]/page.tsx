import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { AdherenceChart } from "@/components/AdherenceChart";
import { AutoRefresh } from "@/components/AutoRefresh";
import { CaregiverAwaitsLink } from "@/components/CaregiverAwaitsLink";
import { ChannelBadges } from "@/components/ChannelBadges";
import { HeldAddresses } from "@/components/HeldAddresses";
import { ContactStops } from "@/components/ContactStops";
import { InvitePanel } from "@/components/InvitePanel";
import { MessageTimeline } from "@/components/MessageTimeline";
import { NextMessagePreview } from "@/components/NextMessagePreview";
import { PatientDetailsForm } from "@/components/PatientDetailsForm";
import { PauseControl } from "@/components/PauseControl";
import { PreferencesPanel } from "@/components/PreferencesPanel";
import { PatientTime } from "@/components/PatientTime";
import { ZoneCaption } from "@/components/ZoneCaption";
import { StatusBadge } from "@/components/StatusBadge";
import { requireClinician } from "@/lib/auth";
import { alertTiming } from "@/lib/caregiver-alerts";
import { asClinician, isUuid } from "@/lib/db";
import { listAppointments } from "@/lib/data/appointments";
import { patientMessages } from "@/lib/data/messages";
import { nextAutomaticMessage, type NextMessage } from "@/lib/data/next-message";
import { adherenceDays, caregivers, doseHistory, getPatient, medications } from "@/lib/data/patients";
import { patientPreferences } from "@/lib/data/preferences";
import { errorMessage, noticeMessage } from "@/lib/errors";
import { resentNotice } from "@/lib/delivery";
import { serviceProblem } from "@/lib/service-problem";
import { previewWithApi, TemplateApiUnavailable, type ApiPreview } from "@/lib/template-api";
import { formatInZone, isKnownZone } from "@/lib/time";
import { pauseConfigured } from "@/lib/pause";
import { todayIn } from "@/lib/pause-form";
import { resendMessageAction } from "../../messages/actions";
import { requestErasureAction } from "../actions";
import { createInviteAction } from "../invite-action";
import { scheduleSummary } from "@/lib/schedule-summary";
import { setTimeCriticalAction } from "../medication-action";
import { savePatientDetailsAction } from "../details-action";
import { savePreferencesAction } from "../preferences-action";
import { changePauseAction } from "../pause-action";

export const metadata: Metadata = { title: "Patient" };


/** The next automatic message rendered by the MedRemind service, or why it could not be. */
async function renderNext(next: NextMessage | null): Promise<{ preview: ApiPreview | null; problem: string | null }> {
  if (!next) return { preview: null, problem: null };
  if (!next.channel) return { preview: null, problem: "The patient has no usable channel, so nothing can be sent." };
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  try {
    const preview = await previewWithApi({
      kind: next.kind,
      locale: next.locale,
      channel: next.channel,
      timezone: next.timezone,
      values: {
        patient_name: next.patient_name,
        clinic_name: next.clinic_name,
        due_at: iso(next.due_at) ?? iso(next.scheduled_time),
        starts_at: iso(next.starts_at),
        location: next.location,
        clinician_name: next.clinician_name,
        medicine_name: next.medicine_name,
        dose_text: next.dose_text,
        medicine_number: next.medicine_number,
        local_date: next.local_date,
        local_time: next.local_time,
      },
      name_medicine: next.name_medicine,
      versions: next.versions,
    });
    return preview
      ? { preview, problem: null }
      : { preview: null, problem: "The preview needs the MedRemind service (MEDREMIND_API_URL is not set)." };
  } catch (error) {
    if (!(error instanceof TemplateApiUnavailable)) throw error;
    const { reason } = serviceProblem(error.status);
    return { preview: null, problem: `The text cannot be shown now: ${reason}.` };
  }
}

export default async function PatientPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const clinician = await requireClinician();
  const { id } = await params;
  const query = await searchParams;
  const error = errorMessage(query.error);
  const notice = noticeMessage(query.notice);
  if (!isUuid(id)) notFound();
  const data = await asClinician(clinician.id, async (tx) => {
    const patient = await getPatient(tx, id);
    if (!patient) return null;
    return {
      patient,
      medications: await medications(tx, id),
      doses: await doseHistory(tx, id),
      // A zone PostgreSQL does not know fails the query: the clinic's days then (said below).
      adherence: await adherenceDays(tx, id, isKnownZone(patient.timezone) ? patient.timezone : clinician.timezone),
      messages: await patientMessages(tx, id),
      appointments: await listAppointments(tx, id),
      caregivers: await caregivers(tx, id),
      preferences: await patientPreferences(tx, id),
      next: await nextAutomaticMessage(tx, id),
    };
  });
  // Another organization's patient is indistinguishable from one that does not exist.
  if (!data) notFound();
  const { patient } = data;
  const tz = clinician.timezone;
  // Etc/Unknown (stored for "Factory" before the API refused it) shows no date: the clinic's.
  const zoneKnown = isKnownZone(patient.timezone);
  const patientZone = zoneKnown ? patient.timezone : tz;
  const saved = query.saved === "preferences";
  const marked = query.saved === "time_critical" || query.saved === "routine" ? query.saved : null;
  if (patient.status === "deleted") {
    // A tombstone: the patient's data is gone; only when and why are left.
    return (
      <>
        <h1>Deleted patient</h1>
        <p className="panel" data-testid="tombstone">
          {patient.erasure_reason ?? "Deleted"}
          {patient.erased_at ? `, ${formatInZone(patient.erased_at, tz)}` : ""}. No personal data is kept.
        </p>
      </>
    );
  }
  const rendered = await renderNext(data.next);
  const usable = patient.channels
    .filter((c) => c.active && !c.opted_out && !c.blocked && !c.held_elsewhere)
    .map((c) => c.channel);
  return (
    <>
      {error ? <p role="alert" className="alert">{error}</p> : null}
      {notice ? (
        <p role="status" className="notice warning" data-testid="patient-notice">
          {notice}
        </p>
      ) : null}
      {saved ? <p role="status" className="notice">Preferences saved.</p> : null}
      {query.saved === "details" ? <p role="status" className="notice" data-testid="details-saved">Details saved.</p> : null}
      {marked ? (
        <p role="status" className="notice" data-testid="time-critical-notice">
          {marked === "time_critical"
            ? "Marked time-critical: its reminders go first at their minute and never early."
            : "Marked routine: its reminders may leave early in a peak, if the clinic allows it."}
        </p>
      ) : null}
      {resentNotice(query.resent) ? (
        <p role="status" className="notice" data-testid="resent-notice">
          {resentNotice(query.resent)}
        </p>
      ) : null}
      <AutoRefresh intervalMs={3000} />
      <div className="row" style={{ justifyContent: "space-between", marginBottom: "1rem" }}>
        <div>
          <h1 style={{ marginBottom: "0.25rem" }}>{patient.display_name ?? "Unnamed patient"}</h1>
          <p className="muted" style={{ margin: 0 }} data-testid="patient-summary">
            {patient.status} · {patient.timezone} · {patient.locale}
            {patient.external_id ? ` · external id ${patient.external_id}` : ""}
            {patient.consent_at ? " · consented" : " · no consent recorded"}
            {patient.reminders_paused ? ` · ${pausedNote(patient)}` : ""}
          </p>
        </div>
        <div className="actions">
          <Link className="button" href={`/messages/new?patient=${patient.id}`}>
            Compose message
          </Link>
          <Link className="button secondary" href={`/appointments?patient=${patient.id}`}>
            Appointments
          </Link>
          <Link className="button secondary" href={`/waitlist?patient=${patient.id}`}>
            Waitlist
          </Link>
        </div>
      </div>

      {!zoneKnown ? (
        <p className="alert" data-testid="patient-zone-unknown">
          <strong>{`No reminder is planned for this patient: their time zone, ${patient.timezone}, is no place's time zone.`}</strong>{" "}
          It was stored before such names were refused, and no one knows where they live. Set
          the time zone they live in (the API&apos;s <code>PATCH /api/v1/patients/{"{id}"}</code>{" "}
          with <code>timezone</code>, or the patient in the bot&apos;s /settings) and their
          reminders are planned at once. Times on this page are the clinic&apos;s meanwhile.
        </p>
      ) : null}
      {patient.unreachable_since ? (
        <p className="alert" data-testid="patient-unreachable">
          <strong>{`No reminder can reach this patient since ${formatInZone(patient.unreachable_since, tz)}.`}</strong>{" "}
          {patient.channels.length === 0
            ? "They have no channel left (an invite link lets them connect one)."
            : "Every channel in their order is opted out, blocked or inactive."}{" "}
          Their doses are recorded as unreachable, not missed, and caregivers get no alert per
          dose. Reminders resume when the patient sends START, writes to the bot again or gets a
          working channel.
        </p>
      ) : !patient.linked_at && patient.status !== "deleted" ? (
        // Never linked is not unreachable (migrations 20260101013600, 20260101013800): linked
        // once a message reached them or they wrote, not by a contact point typed here.
        <p className="notice" data-testid="patient-not-linked">
          <strong>Not linked yet.</strong> Nothing has reached this patient so far. Reminders go to
          a channel of their order that can take them (an invite link opened, a phone number or
          e-mail); the first one sent, or a message from them, links them. A number refused before
          that (mistyped, a landline) does not make them unreachable and no caregiver is told:
          check it. While no reminder can go, their doses are recorded as not reminded, not
          missed, and caregivers are not alerted.
        </p>
      ) : null}

      <section className="panel" aria-labelledby="pause-h">
        <h2 id="pause-h">Reminders</h2>
        <PauseControl
          // Mounted afresh after each change (its `pause_at`), so a refusal shown before goes.
          key={`${patient.reminders_paused}-${patient.reminders_paused_until?.toISOString() ?? ""}-${String(query.pause_at ?? "")}`}
          patientId={patient.id}
          paused={patient.reminders_paused}
          until={patient.reminders_paused_until?.toISOString() ?? null}
          patientZone={zoneKnown ? patient.timezone : "UTC"}
          clinicZone={tz}
          today={todayIn(new Date(), zoneKnown ? patient.timezone : "UTC")}
          configured={pauseConfigured()}
          saved={query.saved === "paused" || query.saved === "resumed" ? query.saved : null}
          action={changePauseAction}
        />
      </section>

      <section className="panel" aria-labelledby="channels-h">
        <h2 id="channels-h">Channels</h2>
        <ChannelBadges channels={patient.channels} />
        <HeldAddresses channels={patient.channels} />
        <p className="muted">Order: {patient.channel_order.join(" → ")}</p>
        <ContactStops
          channels={patient.channels}
          order={patient.channel_order}
          preferred={data.preferences.rows.find((r) => r.category === "medication")?.channel ?? null}
          timezone={tz}
        />
        {patient.channel_order.includes("telegram") && !patient.channels.some((c) => c.channel === "telegram") ? (
          <p className="notice" data-testid="telegram-not-linked">
            Telegram is not linked yet: press Make an invite link below and have the patient open the
            link (or scan its QR code) in Telegram. Their chat is linked when they agree; a chat id
            cannot be typed in.
          </p>
        ) : null}
        <h3 style={{ fontSize: "1rem", marginBottom: "0.5rem" }}>Invite to the bot</h3>
        <InvitePanel action={createInviteAction} patientId={patient.id} />
      </section>

      <section className="panel" aria-labelledby="details-h">
        <h2 id="details-h">Details</h2>
        <PatientDetailsForm
          patientId={patient.id}
          details={patient}
          action={savePatientDetailsAction}
          savedAt={typeof query.details_at === "string" ? query.details_at : undefined}
        />
      </section>

      <section className="panel" aria-labelledby="next-h">
        <h2 id="next-h">Next automatic message</h2>
        <ZoneCaption whose="patient" patientZone={patientZone} clinicZone={tz} />
        <NextMessagePreview next={data.next} preview={rendered.preview} problem={rendered.problem} timezone={patientZone} />
      </section>
      <section className="panel" aria-labelledby="prefs-h">
        <h2 id="prefs-h">Message preferences</h2>
        <PreferencesPanel
          patientId={patient.id}
          prefs={data.preferences}
          channels={[...new Set(usable)]}
          action={savePreferencesAction}
          savedAt={typeof query.at === "string" ? query.at : undefined}
        />
      </section>

      <div className="grid-2">
        <section className="panel" aria-labelledby="meds-h">
          <h2 id="meds-h">Medicines and schedules</h2>
          {data.medications.length === 0 ? <p className="muted">No medicines.</p> : null}
          <ul>
            {data.medications.map((m) => (
              <li key={m.id}>
                {/* Each in its own direction: an Arabic name before "850 mg" read "850 · <name> mg". */}
                <strong><bdi>{m.name}</bdi></strong> {m.dose ? <>· <bdi data-testid="medicine-dose">{m.dose}</bdi></> : ""}{" "}
                {m.status !== "active" ? <span className="badge neutral">{m.status}</span> : null}
                {m.time_critical ? (
                  <span className="badge bad" data-testid={`time-critical-${m.id}`} title="Reminders go first at their minute and never early">
                    time-critical
                  </span>
                ) : null}
                {m.pill_count !== null ? <span className="muted"> · {m.pill_count} pills left</span> : null}
                <ul>
                  {m.schedules.map((s, i) => (
                    <li key={i} className="muted" data-testid="schedule">
                      {scheduleSummary(s)}
                    </li>
                  ))}
                </ul>
                <form action={setTimeCriticalAction} className="inline-form">
                  <input type="hidden" name="patient_id" value={patient.id} />
                  <input type="hidden" name="medication_id" value={m.id} />
                  <input type="hidden" name="time_critical" value={m.time_critical ? "false" : "true"} />
                  <button type="submit" className="secondary" aria-label={`${m.time_critical ? "Mark routine" : "Mark time-critical"}: ${m.name}`}>
                    {m.time_critical ? "Mark routine" : "Mark time-critical"}
                  </button>
                </form>
              </li>
            ))}
          </ul>
          {data.medications.length > 0 ? (
            <p className="hint">
              Time-critical (insulin, anticonvulsants, Parkinson&apos;s medicines): reminders go first at their minute and
              never leave early in a morning peak.
            </p>
          ) : null}
        </section>
        <section className="panel" aria-labelledby="adherence-h">
          <h2 id="adherence-h">Adherence</h2>
          <AdherenceChart days={data.adherence} />
        </section>
      </div>

      <div className="grid-2">
        <section className="panel" aria-labelledby="messages-h">
          <h2 id="messages-h">Messages</h2>
          <ZoneCaption whose="clinic" patientZone={patientZone} clinicZone={tz} />
          <MessageTimeline messages={data.messages} timezone={tz} resend={resendMessageAction} />
        </section>
        <section className="panel" aria-labelledby="doses-h">
          <h2 id="doses-h">Dose history</h2>
          <ZoneCaption whose="patient" patientZone={patientZone} clinicZone={tz} />
          {data.doses.length === 0 ? <p className="muted">No doses in the last 30 days.</p> : (
            <div className="table-wrap" style={{ maxHeight: 420, overflowY: "auto" }}>
              <table>
                <thead>
                  <tr><th scope="col">Due</th><th scope="col">Medicine</th><th scope="col">Status</th><th scope="col">Answered</th></tr>
                </thead>
                <tbody>
                  {data.doses.map((d) => (
                    <tr key={d.id}>
                      <td>{formatInZone(d.due_at, patientZone)}</td>
                      <td>{d.medication}</td>
                      <td><StatusBadge status={d.status} /></td>
                      <td className="muted">{d.answered_at ? `${formatInZone(d.answered_at, patientZone)} ${d.answered_channel ?? ""}` : "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </div>

      <div className="grid-2">
        <section className="panel" aria-labelledby="appointments-h">
          <h2 id="appointments-h">Appointments</h2>
          {data.appointments.length === 0 ? <p className="muted">No appointments.</p> : (
            <ul>
              {data.appointments.map((a) => (
                <li key={a.id}>
                  {formatInZone(a.starts_at, tz)} · {a.duration_minutes} min
                  {a.location ? ` · ${a.location}` : ""} <StatusBadge status={a.status} />
                  <PatientTime at={a.starts_at} clinicZone={tz} patientZone={patientZone} />
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="panel" aria-labelledby="caregivers-h">
          <h2 id="caregivers-h">Caregivers</h2>
          {data.caregivers.length === 0 ? <p className="muted">No caregiver.</p> : (
            <ul>
              {data.caregivers.map((c) => (
                <li key={c.id}>
                  <strong>{c.name}</strong> · {c.channel} {c.address} · {alertTiming(c)}
                  {c.share_details ? " · may see medicine names" : " · generic alerts"}
                  {c.timezone ? ` · quiet hours in ${c.timezone}` : " · quiet hours in the patient's time zone"}
                  {c.active ? "" : " · inactive"}
                  {c.opted_out_at ? (
                    <strong data-testid="caregiver-stopped">
                      {` · opted out on ${formatInZone(c.opted_out_at, tz)}: gets no alerts until they send START`}
                    </strong>
                  ) : c.blocked_at ? (
                    <strong data-testid="caregiver-stopped">
                      {` · unreachable since ${formatInZone(c.blocked_at, tz)} (blocked the bot or the number cannot receive): no alerts until they write to the service`}
                    </strong>
                  ) : c.active && c.awaiting_link_since ? (
                    <CaregiverAwaitsLink caregiver={c} timezone={tz} />
                  ) : null}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>

      <section className="panel" aria-labelledby="erase-h">
        <h2 id="erase-h">Erase this patient</h2>
        <form action={requestErasureAction}>
          <input type="hidden" name="patient_id" value={patient.id} />
          <p className="hint" id="erase-hint">
            Deletes every record of this patient (contact points, medicines, history, appointments, messages). Only a
            line saying when and why remains. This cannot be undone.
          </p>
          <label className="radio">
            <input type="checkbox" name="confirm" aria-describedby="erase-hint" />I confirm the patient asked for this
          </label>
          <button type="submit" className="danger">
            Erase patient
          </button>
        </form>
      </section>
    </>
  );
}

/**
 * A patient's pause as the clinic should read it: until when, in the patient's zone (a pause with
 * a length or an end date ends by itself: scheduler/pause_ends.py), or until they resume.
 */
function pausedNote(patient: { reminders_paused_until: Date | null; timezone: string }): string {
  // Until resumed: by the patient (/resume) or the clinic (Resume reminders, the API).
  if (patient.reminders_paused_until === null) return "reminders paused until resumed";
  const zone = isKnownZone(patient.timezone) ? patient.timezone : "UTC";
  return `reminders paused until ${formatInZone(patient.reminders_paused_until, zone)} (${zone})`;
}
