-- Live delivery to an open patient app (issue 18 item 3). The worker and the web are separate
-- processes: the web records which patients have the app open (patient_app_connections,
-- refreshed by a heartbeat), the worker offers a reminder for such a patient as a row of
-- websocket_deliveries and NOTIFYs medremind_websocket (no payload: nothing travels on the
-- channel), the web sends it to the patient's sockets and marks it delivered when the browser
-- acknowledges. A patient with no fresh connection, or no acknowledgement in a few seconds, is
-- offline: the dispatcher falls through to the next channel (webpush). Rows live for seconds:
-- the worker deletes its offer once answered or given up.

create table patient_app_connections (
  id uuid primary key default gen_random_uuid(),
  patient_id uuid not null references patients (id) on delete cascade,
  connected_at timestamptz not null default now(),
  seen_at timestamptz not null default now()
);
create index patient_app_connections_patient_idx on patient_app_connections (patient_id, seen_at);

create table websocket_deliveries (
  id uuid primary key default gen_random_uuid(),
  patient_id uuid not null references patients (id) on delete cascade,
  message_id uuid references scheduled_messages (id) on delete cascade,
  -- What the app shows: the rendered text and the answer buttons (generic unless opted in).
  payload jsonb not null check (octet_length(payload::text) <= 16000),
  created_at timestamptz not null default now(),
  delivered_at timestamptz
);
create index websocket_deliveries_open_idx on websocket_deliveries (patient_id)
  where delivered_at is null;

do $$
declare t text;
begin
  foreach t in array array['patient_app_connections', 'websocket_deliveries'] loop
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
