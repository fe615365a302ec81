-- API keys get the clinicians' roles (issue 17): 'admin' keys may change what only a clinic's
-- admin may (settings, templates, outgoing webhooks, provider accounts); 'clinician' keys do the
-- daily work (patients, appointments, messages, statistics). Keys made before this were
-- all-powerful and stay so ('admin'); `medremind apikey create --role clinician` makes the
-- narrower kind.
alter table public.api_keys
  add column role text not null default 'admin' check (role in ('clinician', 'admin'));
