-- Row triggers that the service's writes skip by their WHEN alone, with a WHEN that needs no
-- planning work and no function call.
--
-- Why: a trigger's WHEN is planned every time a statement starts writing its table (it is not
-- cached as a statement's plan is). The clinician-action audit triggers (20260101009140) ask
-- public.audit_actor(), a SQL function that 20260101009150 made inlinable: planning the WHEN
-- inlines it, which parses its body and auth.uid()'s again, in every statement that writes
-- scheduled_messages, medications, patients, appointments, reminder_schedules, organizations or
-- message_templates. Profiled with perf on a backend running the Telegram button press (the
-- answer with its stored reply, then the record of the send): 7% of its CPU went to preparing
-- these WHENs, two thirds of it parsing. The bot, the worker and the planner never have an actor.
--
-- The audit WHEN now asks only whether an actor can be there at all: the settings audit_actor()
-- reads (medremind.actor, set by the API for its transaction; request.jwt.claims and
-- request.jwt.claim.sub, set by PostgREST for a signed-in clinician), built-in calls evaluated
-- per row, no planning work. The trigger function still reads audit_actor() and returns when it
-- is null, so exactly the same changes are audited as before (tests/integration/
-- test_clinician_audit.py, tests/web/test_api_audit.py).
--
-- The same for two BEFORE INSERT triggers of scheduled_messages that fire on every bot reply
-- (and every message) only to do nothing for the service's writes:
-- fill_message_organization looks the clinic up when organization_id is missing (the reply and
-- the planner's rows carry it), and scheduled_messages_conversation_of_patient checks a
-- clinician's row (its function acts only when current_user is 'authenticated'). Both keep
-- their functions; the WHEN holds back only calls that would have changed nothing.

do $$
declare t text;
begin
  foreach t in array array['scheduled_messages', 'appointments', 'message_templates',
                           'organizations', 'patients', 'medications', 'reminder_schedules'] loop
    execute format('drop trigger %I on public.%I', t || '_audit_clinician_action', t);
    execute format($sql$
      create trigger %I after insert or update or delete on public.%I for each row
        when (current_setting('medremind.actor', true) <> ''
              or current_setting('request.jwt.claims', true) <> ''
              or current_setting('request.jwt.claim.sub', true) <> '')
        execute function public.audit_patient_facing_change()
      $sql$, t || '_audit_clinician_action', t);
  end loop;
end
$$;

drop trigger scheduled_messages_fill_org on public.scheduled_messages;
create trigger scheduled_messages_fill_org before insert on public.scheduled_messages
  for each row when (new.organization_id is null)
  execute function public.fill_message_organization();

drop trigger scheduled_messages_conversation_of_patient on public.scheduled_messages;
create trigger scheduled_messages_conversation_of_patient
  before insert or update of conversation_id, patient_id on public.scheduled_messages
  for each row when (new.conversation_id is not null and current_user = 'authenticated')
  execute function public.scheduled_messages_conversation_of_patient();
