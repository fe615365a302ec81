-- A patient's opt-out (SMS STOP, Telegram /stop, the carrier's 21610) is lifted by the patient
-- only (START, /start: bot.sql opt_in_contact), never by a clinician.
--
-- Clinicians may write contact_points (the dashboard adds a patient's phone; Supabase gives every
-- signed-in clinician the same access through PostgREST), and nothing kept them from setting
-- opted_out_at back to null, or deleting the opted-out row and adding the number again, or
-- moving the row to another number and adding the opted-out one afresh: reminders then went
-- again to someone who had said STOP (for Telegram nothing else stops them; for SMS the law and
-- the carrier say no). A clinician may still opt a number out for the patient, deactivate it,
-- or move it to another of the clinic's patients with its opt-out.

create function public.refuse_lifting_an_opt_out() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
begin
  if tg_op = 'DELETE' or new.opted_out_at is null or new.channel <> old.channel
     or new.address <> old.address then
    raise exception 'this % address opted out (STOP); only the patient can opt back in',
                    old.channel
      using errcode = 'insufficient_privilege',
            hint = 'the patient sends START (or /start on Telegram); to stop using the'
                   ' address, set active = false: it is kept so nothing reaches it';
  end if;
  return new;
end
$$;
revoke all on function public.refuse_lifting_an_opt_out() from public;

create trigger contact_points_opt_out_is_the_patients
  before update or delete on contact_points
  for each row when (old.opted_out_at is not null and current_user = 'authenticated')
  execute function public.refuse_lifting_an_opt_out();
