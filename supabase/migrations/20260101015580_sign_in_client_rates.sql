-- The patient app's sign-in requests per client (medremind/web/patient_app/client_rate.py).
--
-- A sign-in request (POST /app/api/sign-in/request) names a phone number or e-mail address, and
-- queues a link to it when it is a patient's: at most 3 per patient in 15 minutes
-- (core/sign_in_links.py). Nothing bounded one client, which could ask for links for every
-- number of a list: a text to each patient it hits (an SMS each, paid by the clinic) and a
-- probe of who is a patient by the messages that arrive. Now each client address (as the web
-- process sees it behind its proxy) has a bucket here, shared by every web process: a GCRA's
-- next free moment, like api_key_rates. The key is the SHA-256 of the address (an address is
-- not kept as such; it is no secret either: IPv4 is small enough to try). A row whose moment
-- has passed holds nothing and is removed by the web's housekeeping (forget_old_sign_ins).

create table sign_in_client_rates (
  client_key text primary key check (length(client_key) = 64),
  allowed_at timestamptz not null
);

alter table public.sign_in_client_rates enable row level security;
alter table public.sign_in_client_rates force row level security;
revoke all on public.sign_in_client_rates from public, anon, authenticated;
grant select, insert, update, delete on public.sign_in_client_rates to medremind_app;
create policy sign_in_client_rates_service on public.sign_in_client_rates
  for all to medremind_app using (true) with check (true);
grant all on public.sign_in_client_rates to service_role;
