-- A worker that stopped cleanly says so in its last heartbeat (scheduler/heartbeat.py): the web's
-- medremind_fleet_workers_alive counted it for 60 s after (until its heartbeat aged), so a
-- deploy that replaced every worker showed twice the fleet, and one stopped on purpose (scaled
-- down) hid a real absence from MedremindWorkerAbsent for a minute. A worker killed without a
-- chance to say so (SIGKILL, a lost host) still counts until its heartbeat is 60 s old.
alter table public.worker_heartbeats add column stopped_at timestamptz;
comment on column public.worker_heartbeats.stopped_at is
  'When the worker stopped cleanly (its last heartbeat); null while it runs (or if it died).';
