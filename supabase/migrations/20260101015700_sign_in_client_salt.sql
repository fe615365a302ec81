-- The sign-in request buckets' keys are salted (medremind/web/patient_app/client_rate.py).
--
-- Migration 20260101015580 keyed each client's bucket by the SHA-256 of its address: no address
-- stored as such, but one found again by hashing every IPv4 address (2^32 hashes, minutes on a
-- laptop). The key is now an HMAC-SHA-256 of the address under this database's own salt, 32
-- random bytes drawn here once (two version-4 UUIDs: 244 random bits) and read by every web
-- process: the same client has the same key in each, and a copy of the table without the salt
-- tells no address. Only the service reads it.
create table sign_in_client_salt (
  only_row boolean primary key default true check (only_row),
  salt bytea not null check (length(salt) = 32)
);

insert into sign_in_client_salt (salt)
values (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

alter table public.sign_in_client_salt enable row level security;
alter table public.sign_in_client_salt force row level security;
revoke all on public.sign_in_client_salt from public, anon, authenticated;
grant select on public.sign_in_client_salt to medremind_app;
create policy sign_in_client_salt_service on public.sign_in_client_salt
  for select to medremind_app using (true);
grant all on public.sign_in_client_salt to service_role;

-- Buckets under the old keys: at most 15 minutes of counting is forgotten.
delete from sign_in_client_rates;
