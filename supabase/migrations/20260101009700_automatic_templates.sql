-- Clinic templates for automatic messages (issue 17). A version of a clinic's template marked
-- `automatic` is the clinic's text for every automatic message of its kind (the planner's
-- medication and appointment reminders, follow-ups, refill notices, appointment confirmations,
-- reschedule and cancellation notices, caregiver alerts) in its locale and on its channel
-- ('default': any channel). The dispatcher picks it when it renders a row that names no template
-- (scheduler/custom_templates.py); without one for the patient's language, or when it cannot be
-- rendered, the built-in text goes out (docs/templates.md). At most one automatic version per
-- clinic, kind, locale and channel, so which one is used is never a guess.

alter table message_templates add column automatic boolean not null default false;

alter table message_templates add constraint message_templates_automatic_kind check (
  not automatic or kind in (
    'medication_reminder', 'dose_followup', 'refill_reminder', 'missed_dose_caregiver',
    'appointment_confirmation', 'appointment_reminder', 'appointment_rescheduled',
    'appointment_cancelled'));

create unique index message_templates_automatic_idx
  on message_templates (organization_id, kind, locale, channel) where automatic;
