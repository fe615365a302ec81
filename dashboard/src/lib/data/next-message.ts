import "server-only";
import type { Tx } from "../db";
import { AUTOMATIC_KINDS } from "../template-kinds";

/**
 * The patient's next automatic message (the planner's next pending row that names no template)
 * with everything the worker fills into it, and the clinic's automatic template versions of its
 * kind: what the Python API needs to render it as it will be sent (`previewWithApi`). Read as
 * the clinician, so row-level security keeps it to their own clinic.
 */

export interface TemplateVersion {
  name: string;
  locale: string;
  channel: string;
  body: string;
  subject: string | null;
}

export interface NextMessage {
  id: string;
  kind: string;
  scheduled_time: Date;
  /** The channel it would go out on now: the row's, else the category's, else the first usable. */
  channel: string | null;
  locale: string;
  timezone: string;
  patient_name: string | null;
  clinic_name: string | null;
  due_at: Date | null;
  starts_at: Date | null;
  location: string | null;
  clinician_name: string | null;
  medicine_name: string | null;
  dose_text: string | null;
  /** The dose's medicine by its /meds number where the patient has several (the row's payload). */
  medicine_number: number | null;
  /**
   * The dose's set day and time (the row's payload, YYYY-MM-DD and HH:MM), so a dose the clocks
   * sprang over (set at 2:30, sent at 3:00) is named by its set time, as the send names it.
   */
  local_date: string | null;
  local_time: string | null;
  name_medicine: boolean;
  versions: TemplateVersion[];
}

/** The next pending automatic message of `patientId`, or null when none is planned. */
export async function nextAutomaticMessage(tx: Tx, patientId: string): Promise<NextMessage | null> {
  const [row] = await tx<Omit<NextMessage, "versions">[]>`
    select m.id, m.kind, m.scheduled_time, p.locale, p.timezone, p.display_name as patient_name,
           o.name as clinic_name, de.due_at, a.starts_at, a.location, a.clinician_name,
           med.name as medicine_name, med.dose as dose_text,
           (m.payload ->> 'medicine_number')::int as medicine_number,
           substring(m.payload ->> 'local_date' from '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') as local_date,
           substring(m.payload ->> 'local_time' from '^[0-9]{2}:[0-9]{2}') as local_time,
           p.name_medicine_in_reminders as name_medicine,
           coalesce(
             nullif(m.platform, 'auto'),
             (select pp.channel from patient_preferences pp
               where pp.patient_id = p.id
                 and pp.category = public.message_category(m.kind, m.payload)
                 and exists (select 1 from contact_points c where c.patient_id = p.id
                               and c.channel = pp.channel and c.active
                               and c.opted_out_at is null and c.blocked_at is null)),
             (select c.channel from contact_points c
               where c.patient_id = p.id and c.active and c.opted_out_at is null
                 and c.blocked_at is null
               order by coalesce(array_position(p.channel_order, c.channel), 99), c.created_at
               limit 1)) as channel
      from scheduled_messages m
      join patients p on p.id = m.patient_id
      left join organizations o on o.id = p.organization_id
      left join dose_events de on de.id = m.dose_event_id
      left join medications med on med.id = de.medication_id
      left join appointments a on a.id = m.appointment_id
     where m.patient_id = ${patientId} and m.status = 'pending' and m.template is null
       and m.caregiver_id is null
       and m.kind = any(${[...AUTOMATIC_KINDS]}::text[])
     order by m.scheduled_time, m.created_at
     limit 1`;
  if (!row) return null;
  const versions = await tx<TemplateVersion[]>`
    select name, locale, channel, body, subject from message_templates
     where organization_id = public.current_organization_id() and automatic and kind = ${row.kind}
     order by locale, channel`;
  return { ...row, versions };
}
