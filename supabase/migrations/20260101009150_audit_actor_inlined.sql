-- public.audit_actor() runs in the WHEN of the clinician-action audit triggers (20260101009140)
-- for every row the worker, planner and bot write, where it finds no actor. Without a SET clause
-- a one-expression SQL function is inlined into the WHEN (its own body: auth.uid() and
-- current_setting, schema-qualified); measured with bench/webhook_events.py.
alter function public.audit_actor() reset search_path;
