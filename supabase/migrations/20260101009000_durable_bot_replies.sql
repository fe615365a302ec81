-- Bot replies are rows of scheduled_messages (issue 15, item 9).
--
-- A turn writes its replies as 'processing' rows leased to the web process, in the transaction
-- that records the turn; the web process sends them at once and records the outcome as the
-- dispatcher does. A reply the web process could not send (a provider 5xx, a hard kill before
-- the send) is retried by the dispatcher: its lease expires and the reaper hands it back.
--
-- A reply answers a chat, not a patient's channel order: conversation_id names the chat (the
-- dispatcher sends to that conversation's address on the row's platform, never elsewhere). A chat
-- with no patient yet (a stranger mid-registration) gets rows without a patient, and so without
-- a clinic: no clinician sees them, and once final their text is forgotten (such a chat keeps
-- nothing but its ids, as inbound_messages does).

alter table scheduled_messages alter column patient_id drop not null;
alter table scheduled_messages
  add column conversation_id uuid references conversations (id) on delete cascade;
create index scheduled_messages_conversation_idx on scheduled_messages (conversation_id)
  where conversation_id is not null;

-- A row without a patient is a bot reply to a chat: nothing of a clinic hangs on it.
alter table scheduled_messages add constraint scheduled_messages_recipient_check check (
  patient_id is not null
  or (conversation_id is not null and organization_id is null and kind = 'system'
      and caregiver_id is null and dose_event_id is null and appointment_id is null)
);
-- A reply goes on its chat's own channel.
alter table scheduled_messages add constraint scheduled_messages_reply_platform_check check (
  conversation_id is null or platform <> 'auto'
);

-- Whether conversation p_conversation is the chat of patient p_patient of the caller's clinic
-- (clinicians cannot read conversations: the trigger below asks this function).
create or replace function public.conversation_of_my_patient(p_conversation uuid, p_patient uuid)
  returns boolean language sql stable security definer set search_path = public, pg_temp as $$
  select exists (
    select 1 from public.conversations c
     where c.id = p_conversation and c.patient_id = p_patient
       and public.patient_in_my_organization(p_patient)
  )
$$;
revoke all on function public.conversation_of_my_patient(uuid, uuid) from public;
grant execute on function public.conversation_of_my_patient(uuid, uuid) to authenticated;

-- A clinician's row may name a chat only of its own patient (none of the dashboard's do). A
-- trigger rather than a clause of the policy scheduled_messages_clinician: other migrations
-- rewrite that policy's whole check, and would drop the clause.
create or replace function public.scheduled_messages_conversation_of_patient() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
begin
  -- Nested: the service's roles may not execute the check (and need not).
  if current_user = 'authenticated' then
    if not public.conversation_of_my_patient(new.conversation_id, new.patient_id) then
      raise exception 'a message may name only a conversation of its own patient'
        using errcode = 'insufficient_privilege';
    end if;
  end if;
  return new;
end
$$;
create trigger scheduled_messages_conversation_of_patient
  before insert or update of conversation_id, patient_id on scheduled_messages
  for each row when (new.conversation_id is not null)
  execute function public.scheduled_messages_conversation_of_patient();

-- A reply to a chat without a patient forgets its text once it is done with (sent, failed,
-- expired, cancelled): the row stays, for its status and attempts.
create or replace function public.scheduled_messages_forget_stranger_reply() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
begin
  new.message_content := null;
  new.payload := new.payload - 'options' - 'columns';
  return new;
end
$$;
create trigger scheduled_messages_forget_stranger_reply
  before update of status on scheduled_messages
  for each row
  when (new.patient_id is null and new.conversation_id is not null
        and new.status in ('sent', 'delivered', 'failed', 'cancelled', 'expired'))
  execute function public.scheduled_messages_forget_stranger_reply();

-- The replies of one turn arrive in order: each row but the first is written due at its expiry
-- (held) and names the next in payload 'then'; when a reply is done with, the next one becomes
-- due. After the row update (not before): the web process records a turn's replies in one
-- statement, and a BEFORE trigger may not change a row that statement changes later.
create or replace function public.scheduled_messages_release_next_reply() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
begin
  update public.scheduled_messages
     set scheduled_time = least(scheduled_time, now())
   where id = (new.payload ->> 'then')::uuid
     and conversation_id = new.conversation_id
     and status in ('pending', 'processing');
  return null;
end
$$;
create trigger scheduled_messages_release_next_reply
  after update of status on scheduled_messages
  for each row
  when (new.conversation_id is not null and new.payload ? 'then'
        and old.status in ('pending', 'processing')
        and new.status in ('sent', 'delivered', 'failed', 'cancelled', 'expired'))
  execute function public.scheduled_messages_release_next_reply();

-- Erasure: also the replies to the person's chats from before they were a patient.
create or replace function public.erase_patient(p_patient uuid, p_reason text, p_at timestamptz)
  returns void language plpgsql as $$
-- Erase a patient: every row about them goes (the stored texts of their chats, then every row
-- of every table that points at them, found in the catalog); their chats' conversations are
-- kept, unlinked and emptied (the chat may come back with /start). A self-registered record is
-- deleted outright; a clinic's record becomes a tombstone: status 'deleted', erased_at and
-- erasure_reason, no name, no external id, no settings.
declare
  org uuid;
  fk record;
begin
  select organization_id into org from public.patients where id = p_patient for update;
  if not found then
    return;
  end if;
  delete from public.inbound_messages i
   using public.contact_points c
   where c.patient_id = p_patient and i.channel = c.channel and i.chat_address = c.address
     and i.status <> 'received';
  -- Replies of the person's chats without a patient (sent before they registered).
  delete from public.scheduled_messages m
   using public.conversations v
   where m.conversation_id = v.id and m.patient_id is null
     and (v.patient_id = p_patient
          or exists (select 1 from public.contact_points c
                      where c.patient_id = p_patient and c.channel = v.channel
                        and c.address = v.chat_address));
  update public.conversations set patient_id = null, step = 'idle', state = '{}'::jsonb
   where patient_id = p_patient;
  if org is null then
    delete from public.patients where id = p_patient;
    return;
  end if;
  for fk in
    select c.conrelid::regclass as tbl, a.attname as col
      from pg_constraint c
      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
     where c.contype = 'f' and c.confrelid = 'public.patients'::regclass
       and cardinality(c.conkey) = 1
       and c.conrelid not in ('public.patients'::regclass, 'public.conversations'::regclass)
     order by c.conrelid::regclass::text, a.attname
  loop
    execute format('delete from %s where %I = $1', fk.tbl, fk.col) using p_patient;
  end loop;
  update public.patients
     set display_name = null, external_id = null, status = 'deleted', consent_at = null,
         reminders_paused = false, quiet_start = null, quiet_end = null, home_timezone = null,
         locale = 'en', timezone = 'UTC', channel_order = '{}',
         erased_at = p_at, erasure_reason = p_reason
   where id = p_patient;
end
$$;
