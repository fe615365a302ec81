-- public.accept_slot_offer takes the offer's row lock before the recipient's. 20260101008720
-- locked the recipient first: two patients accepting at once each held their own recipient row
-- and waited for the offer, and the winner then waited for the loser's recipient row to mark it
-- too late: a deadlock (PostgreSQL broke it by failing one acceptance). With the offer locked
-- first, acceptances of one slot queue on that one row.
create or replace function public.accept_slot_offer(p_recipient uuid, p_at timestamptz)
returns table (outcome text, appointment_id uuid)
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  rcp slot_offer_recipients;
  offer slot_offers;
  booked uuid;
begin
  select * into offer from slot_offers
   where id = (select offer_id from slot_offer_recipients where id = p_recipient)
     for update;
  if not found then
    return query select 'unknown'::text, null::uuid;
    return;
  end if;
  select * into rcp from slot_offer_recipients where id = p_recipient for update;
  if offer.status <> 'open' or offer.starts_at <= p_at then
    if rcp.status = 'offered' then
      update slot_offer_recipients set status = 'too_late', answered_at = p_at where id = rcp.id;
    end if;
    return query select
      case when offer.status = 'open' then 'expired'
           when offer.booked_appointment_id is not null and exists (
             select 1 from appointments a where a.id = offer.booked_appointment_id
                and a.patient_id = rcp.patient_id) then 'booked'
           else 'taken' end,
      offer.booked_appointment_id;
    return;
  end if;
  insert into appointments (organization_id, patient_id, starts_at, duration_minutes, location,
                            clinician_name, status)
  values (offer.organization_id, rcp.patient_id, offer.starts_at, offer.duration_minutes,
          offer.location, offer.clinician_name, 'confirmed')
  returning id into booked;
  update slot_offers set status = 'taken', taken_at = p_at, booked_appointment_id = booked
   where id = offer.id;
  update slot_offer_recipients set status = 'accepted', answered_at = p_at where id = rcp.id;
  update slot_offer_recipients set status = 'too_late', answered_at = p_at
   where offer_id = offer.id and id <> rcp.id and status = 'offered';
  update waitlist_entries set status = 'booked', booked_appointment_id = booked
   where id = rcp.entry_id;
  insert into audit_log (organization_id, actor, action, entity, entity_id, details)
  values (offer.organization_id, 'patient', 'waitlist.accept', 'appointment', booked::text,
          jsonb_build_object('offer_id', offer.id));
  return query select 'booked'::text, booked;
end
$$;
