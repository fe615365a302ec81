-- A caregiver's opt-out and a caregiver the service cannot reach stop their missed-dose alerts.
--
-- A caregiver who texted STOP (SMS, WhatsApp) or /stop (Telegram) was opted out as a chat only:
-- the opt-out was written to the patient contact points with that address, and a caregiver has
-- none, so every missed dose still alerted them (WhatsApp has no carrier STOP at all). A caregiver
-- who blocked the bot (Telegram 403), whose number the carrier reports opted out (Twilio 21610)
-- or who can never receive (21211) was tried again for every missed dose, and the clinic saw no
-- reason. Now:
-- - opted_out_at: the caregiver's number or chat opted out (STOP, /stop, the carrier's 21610);
--   only the caregiver lifts it (START, /start: bot.sql opt_in_contact), never a clinician, and
--   a caregiver row added again for an opted-out address starts opted out;
-- - blocked_at: a permanent error says the address cannot be reached (the bot blocked, the chat
--   gone, an invalid number: dispatch.sql deactivate_contacts); a message from it lifts it
--   (bot.sql finish_turn).
-- Either keeps the caregiver out of planner.sql mark_missed and the dispatcher's claim, and the
-- dashboard shows it on the patient's caregivers.

alter table caregivers add column opted_out_at timestamptz;
alter table caregivers add column blocked_at timestamptz;
comment on column caregivers.opted_out_at is
  'When the caregiver opted out (STOP, /stop, carrier 21610): no alerts; only the caregiver opts back in.';
comment on column caregivers.blocked_at is
  'When a permanent error showed the address unreachable (bot blocked, invalid number): no alerts until it writes.';

-- The bot's STOP/START and the turn's block lift find a caregiver by its address.
create index caregivers_address_idx on caregivers (channel, address);

-- When this address opted out of the service, if it did: as a caregiver of anyone, as a
-- patient's contact point, or as a chat (a STOP from a number that is nobody's contact point).
-- SECURITY DEFINER: the address's opt-out holds whichever clinic adds it (a clinic sees that the
-- number opted out, which it needs to know why no alert goes; nothing else of the other rows).
create function public.address_opted_out_at(p_channel text, p_address text)
  returns timestamptz
  language sql stable security definer set search_path = public, pg_temp as $$
  select min(t)
    from (select c.opted_out_at as t from public.caregivers c
           where c.channel = p_channel and c.address = p_address
          union all
          select cp.opted_out_at from public.contact_points cp
           where cp.channel = p_channel and cp.address = p_address
          union all
          select now() from public.conversations v
           where v.channel = p_channel and v.chat_address = p_address and v.state ? 'opted_out') s
$$;
revoke all on function public.address_opted_out_at(text, text) from public, anon, authenticated;

-- SECURITY DEFINER: a clinician's insert reads the other rows through it (a trigger function
-- cannot be called on its own, so this asks nothing for anyone).
create function public.caregiver_opt_out_follows_address() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  -- A caregiver saved again (or moved) to an address that opted out stays opted out.
  new.opted_out_at := coalesce(new.opted_out_at,
                               public.address_opted_out_at(new.channel, new.address));
  return new;
end
$$;
revoke all on function public.caregiver_opt_out_follows_address() from public, anon, authenticated;

create trigger caregivers_opt_out_follows_address
  before insert or update of channel, address on caregivers
  for each row execute function public.caregiver_opt_out_follows_address();

create function public.refuse_lifting_a_caregiver_opt_out() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
begin
  raise exception 'this caregiver''s % address opted out (STOP); only the caregiver can opt back in',
                  old.channel
    using errcode = 'insufficient_privilege',
          hint = 'the caregiver sends START (or /start on Telegram) to the service';
end
$$;
revoke all on function public.refuse_lifting_a_caregiver_opt_out() from public, anon;

create trigger caregivers_opt_out_is_the_caregivers
  before update on caregivers
  for each row when (old.opted_out_at is not null and new.opted_out_at is null
                     and current_user = 'authenticated')
  execute function public.refuse_lifting_a_caregiver_opt_out();

-- Caregivers saved before this migration whose address already opted out.
update caregivers c
   set opted_out_at = public.address_opted_out_at(c.channel, c.address)
 where c.opted_out_at is null
   and public.address_opted_out_at(c.channel, c.address) is not null;
