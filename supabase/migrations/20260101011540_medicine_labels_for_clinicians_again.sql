-- 20260101011200 (medicine numbers) grants public.medicine_labels to authenticated; it landed
-- after 20260101011530, which runs after it on a new database and takes from the API roles
-- every grant it does not list itself (the Supabase defaults cannot be told apart from
-- intended grants). Given back here. A migration numbered below 20260101011530 that grants
-- something to authenticated or anon needs the same: a grant in a migration after it.
grant execute on function public.medicine_labels(uuid[]) to authenticated;
