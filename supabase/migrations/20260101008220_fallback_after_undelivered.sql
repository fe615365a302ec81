-- A carrier that reports a sent message undelivered or failed (Twilio's status callback) ends
-- that channel for the message, as a permanent error at send time does: when the message allows
-- fallback (not a caregiver alert; platform 'auto' or allow_fallback) and the patient has a
-- usable contact point on a channel of their order not tried yet, the message goes back to
-- pending at once, its attempts counted afresh, and the dispatcher sends it on that channel
-- (scheduler/routing.py picks it: channels_tried holds the one that failed). Otherwise it stays
-- failed. Only the callback moves a message from sent to failed; the dispatcher never does.

create function public.scheduled_messages_fallback_after_undelivered()
returns trigger
language plpgsql
set search_path = public, pg_temp
as $$
declare
  tried text[] := new.channels_tried;
begin
  if new.channel_used is not null and not new.channel_used = any(tried) then
    tried := tried || new.channel_used;
  end if;
  if new.caregiver_id is null
     and (new.platform = 'auto' or new.allow_fallback)
     and (new.expires_at is null or new.expires_at > now())
     and exists (
       select 1
         from contact_points cp
         join patients p on p.id = cp.patient_id
        where cp.patient_id = new.patient_id
          and cp.channel = any(p.channel_order || new.platform)
          and not cp.channel = any(tried)
          and cp.active and cp.opted_out_at is null and cp.blocked_at is null
          and p.status <> 'deleted'
     ) then
    new.status := 'pending';
    new.scheduled_time := now();
    new.attempts := 0;
    new.channels_tried := tried;
    new.last_error := left(coalesce(new.last_error, 'undelivered'), 400)
                      || '; trying the patient''s next channel';
  end if;
  return new;
end
$$;
revoke all on function public.scheduled_messages_fallback_after_undelivered() from public;

create trigger scheduled_messages_fallback_after_undelivered
  before update of status on public.scheduled_messages
  for each row
  when (old.status = 'sent' and new.status = 'failed')
  execute function public.scheduled_messages_fallback_after_undelivered();
