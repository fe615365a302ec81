-- Reminders sent before the answer router existed (20260101008000) recorded no question, so a
-- patient's typed "1" or "Taken" to a reminder that arrived shortly before the upgrade would find
-- nothing to answer. This records, once, the question of every such message still answerable:
-- sent in the last 12 hours (the router's window for typed answers), its dose still waiting or its
-- appointment ahead, with the options the built-in templates showed (labels per kind and language)
-- and the typed replies the old texts showed: numbers on numbered channels, the letters C, R, X on
-- the SMS appointment texts, none on Telegram (buttons).

with labels (kind, locale, position, code, label) as (
  values
    ('medication_reminder', 'en', 1, 't', 'Taken'), ('medication_reminder', 'en', 2, 's', 'Snooze 15 min'),
    ('medication_reminder', 'en', 3, 'k', 'Skip'),
    ('medication_reminder', 'es', 1, 't', 'Tomada'), ('medication_reminder', 'es', 2, 's', 'Recordar en 15 min'),
    ('medication_reminder', 'es', 3, 'k', 'Omitir'),
    ('dose_followup', 'en', 1, 't', 'Taken'), ('dose_followup', 'en', 2, 's', 'Remind me later'),
    ('dose_followup', 'en', 3, 'k', 'Skipped'),
    ('dose_followup', 'es', 1, 't', 'Tomada'), ('dose_followup', 'es', 2, 's', 'Recordar más tarde'),
    ('dose_followup', 'es', 3, 'k', 'No la tomé'),
    ('appointment_confirmation', 'en', 1, 'c', 'Confirm'), ('appointment_confirmation', 'en', 2, 'r', 'Reschedule'),
    ('appointment_confirmation', 'en', 3, 'x', 'Cancel appointment'),
    ('appointment_confirmation', 'es', 1, 'c', 'Confirmar'), ('appointment_confirmation', 'es', 2, 'r', 'Cambiar fecha'),
    ('appointment_confirmation', 'es', 3, 'x', 'Anular la cita'),
    ('appointment_reminder', 'en', 1, 'c', 'I''ll be there'), ('appointment_reminder', 'en', 2, 'r', 'Reschedule'),
    ('appointment_reminder', 'en', 3, 'x', 'Cancel appointment'),
    ('appointment_reminder', 'es', 1, 'c', 'Allí estaré'), ('appointment_reminder', 'es', 2, 'r', 'Cambiar fecha'),
    ('appointment_reminder', 'es', 3, 'x', 'Anular la cita'),
    ('appointment_rescheduled', 'en', 1, 'c', 'Confirm'), ('appointment_rescheduled', 'en', 2, 'r', 'Pick another time'),
    ('appointment_rescheduled', 'en', 3, 'x', 'Cancel appointment'),
    ('appointment_rescheduled', 'es', 1, 'c', 'Confirmar'), ('appointment_rescheduled', 'es', 2, 'r', 'Elegir otra fecha'),
    ('appointment_rescheduled', 'es', 3, 'x', 'Anular la cita')
), sent as (
  select m.id, m.patient_id, m.channel_used, m.kind, m.dose_event_id, m.appointment_id, m.sent_at,
         case when p.locale like 'es%' then 'es' else 'en' end as locale,
         (select cp.address from public.contact_points cp
           where cp.patient_id = m.patient_id and cp.channel = m.channel_used
           order by cp.created_at limit 1) as address
    from public.scheduled_messages m
    join public.patients p on p.id = m.patient_id and p.status <> 'deleted'
    left join public.dose_events d on d.id = m.dose_event_id
    left join public.appointments a on a.id = m.appointment_id
   where m.status in ('sent', 'delivered') and m.sent_at > now() - interval '12 hours'
     and m.caregiver_id is null and not (m.payload ? 'options')
     and m.channel_used in ('telegram', 'whatsapp', 'sms', 'email', 'console')
     and ((m.kind in ('medication_reminder', 'dose_followup')
           and d.status in ('due', 'snoozed', 'missed'))
          or (m.kind in ('appointment_confirmation', 'appointment_reminder', 'appointment_rescheduled')
              and m.dose_event_id is null and a.starts_at > now()
              and a.status in ('scheduled', 'confirmed', 'reschedule_requested')))
     and not exists (select 1 from public.conversation_questions q where q.message_id = m.id)
)
insert into public.conversation_questions
  (patient_id, channel, chat_address, message_id, dose_event_id, appointment_id, options, asked_at)
select s.patient_id, s.channel_used, s.address, s.id, s.dose_event_id,
       case when s.dose_event_id is null then s.appointment_id end,
       (select jsonb_agg(jsonb_build_object(
                 'label', l.label,
                 'data', case when s.dose_event_id is not null
                              then 'd:' || replace(s.dose_event_id::text, '-', '') || ':' || l.code
                              else 'a:' || replace(s.appointment_id::text, '-', '') || ':' || l.code end,
                 'keys', case when s.channel_used = 'telegram' then '[]'::jsonb
                              when s.channel_used = 'sms' and s.dose_event_id is null
                                then jsonb_build_array(l.code)
                              else jsonb_build_array(l.position::text) end)
                 order by l.position)
          from labels l where l.kind = s.kind and l.locale = s.locale),
       s.sent_at
  from sent s
 where s.address is not null;
