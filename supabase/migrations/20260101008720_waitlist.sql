-- Waitlist: patients waiting for an earlier appointment, with the times that suit them. When an
-- upcoming appointment is cancelled, its slot is offered (scheduler/waitlist.py) to the fitting
-- waitlisted patients of the clinic with an Accept button; public.accept_slot_offer books the
-- first acceptance and tells the others the slot is gone. One booking per slot: the offer row's
-- status moves from 'open' to 'taken' in one guarded UPDATE, so concurrent acceptances serialize
-- on that row and only one finds it open.

create table waitlist_entries (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  patient_id uuid not null references patients (id) on delete cascade,
  -- ISO days (1 = Monday); null: any day.
  days_of_week smallint[] check (
    days_of_week is null
    or (cardinality(days_of_week) between 1 and 7
        and days_of_week <@ array[1, 2, 3, 4, 5, 6, 7]::smallint[])),
  -- Wall-clock window in the patient's timezone the appointment must fit in; null: any time.
  earliest time,
  latest time,
  duration_minutes integer check (duration_minutes between 1 and 1440),
  note text check (length(note) <= 200),
  status text not null default 'waiting' check (status in ('waiting', 'booked', 'removed')),
  booked_appointment_id uuid references appointments (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (earliest is null or latest is null or earliest < latest)
);
create index waitlist_entries_waiting_idx on waitlist_entries (organization_id, created_at)
  where status = 'waiting';
create unique index waitlist_entries_one_per_patient on waitlist_entries (patient_id)
  where status = 'waiting';

create table slot_offers (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  -- The cancelled appointment whose slot this is (one offer per freed slot).
  source_appointment_id uuid unique references appointments (id) on delete set null,
  starts_at timestamptz not null,
  duration_minutes integer not null,
  location text,
  clinician_name text,
  status text not null default 'open' check (status in ('open', 'taken', 'withdrawn')),
  booked_appointment_id uuid references appointments (id) on delete set null,
  taken_at timestamptz,
  created_at timestamptz not null default now()
);

create table slot_offer_recipients (
  id uuid primary key default gen_random_uuid(),
  offer_id uuid not null references slot_offers (id) on delete cascade,
  entry_id uuid not null references waitlist_entries (id) on delete cascade,
  patient_id uuid not null references patients (id) on delete cascade,
  status text not null default 'offered'
    check (status in ('offered', 'accepted', 'declined', 'too_late')),
  answered_at timestamptz,
  created_at timestamptz not null default now(),
  unique (offer_id, entry_id)
);
create index slot_offer_recipients_patient_idx on slot_offer_recipients (patient_id);

create trigger waitlist_entries_touch before update on waitlist_entries
  for each row execute function touch_updated_at();

do $$
declare t text;
begin
  foreach t in array array['waitlist_entries', 'slot_offers', 'slot_offer_recipients'] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('alter table public.%I force row level security', t);
    execute format('grant select, insert, update, delete on public.%I to medremind_app', t);
    execute format(
      'create policy %I on public.%I for all to medremind_app using (true) with check (true)',
      t || '_service', t);
    execute format('grant all on public.%I to service_role', t);
  end loop;
end
$$;
-- Clinicians manage their clinic's waitlist (only their own patients) and see offers.
grant select, insert, update, delete on waitlist_entries to authenticated;
create policy waitlist_entries_clinician on waitlist_entries for all to authenticated
  using (organization_id = public.current_organization_id())
  with check (organization_id = public.current_organization_id()
              and public.patient_in_my_organization(patient_id)
              and (booked_appointment_id is null or exists (
                select 1 from appointments a where a.id = booked_appointment_id)));
grant select on slot_offers to authenticated;
create policy slot_offers_clinician on slot_offers for select to authenticated
  using (organization_id = public.current_organization_id());
grant select on slot_offer_recipients to authenticated;
create policy slot_offer_recipients_clinician on slot_offer_recipients for select to authenticated
  using (exists (select 1 from slot_offers o where o.id = offer_id));

-- A patient's acceptance. Returns 'booked' (the slot is theirs: an appointment is created and
-- their entry closed), 'taken' (someone was first), 'expired' (the slot has started) or
-- 'unknown'. The others offered the slot are marked too_late; the caller tells them.
create function public.accept_slot_offer(p_recipient uuid, p_at timestamptz)
returns table (outcome text, appointment_id uuid)
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  rcp slot_offer_recipients;
  offer slot_offers;
  booked uuid;
begin
  select * into rcp from slot_offer_recipients where id = p_recipient for update;
  if not found then
    return query select 'unknown'::text, null::uuid;
    return;
  end if;
  -- The guard: only one transaction finds the offer open.
  update slot_offers set status = 'taken', taken_at = p_at
   where id = rcp.offer_id and status = 'open' and starts_at > p_at
  returning * into offer;
  if not found then
    select * into offer from slot_offers where id = rcp.offer_id;
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
  update slot_offers set booked_appointment_id = booked where id = offer.id;
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
revoke all on function public.accept_slot_offer(uuid, timestamptz) from public;
grant execute on function public.accept_slot_offer(uuid, timestamptz) to medremind_app;
