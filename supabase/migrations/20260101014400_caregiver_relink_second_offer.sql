-- A caregiver relink (20260101014300) that expires unopened is offered once more, then no more.
--
-- The worker sends the patient of a Telegram caregiver typed in before links one fresh link
-- (medremind/caregiver_relinks.py). A link works 7 days; unopened by then (the patient did not
-- forward it, the caregiver did not open it, or the message never reached the patient), the
-- caregiver stayed without alerts and nothing more happened. Now the worker sends the patient a
-- second link, saying the first expired and that this one is the last; after that the clinic
-- sees "expired unopened" on the patient's page and the patient may name the caregiver anew in
-- /settings. link_offers counts the links sent (at most 2), link_offered_at stays the last one's.

alter table caregivers add column link_offers smallint not null default 0
  check (link_offers between 0 and 2);
comment on column caregivers.link_offers is
  'How many links the patient was sent for this caregiver awaiting a link (medremind/caregiver_relinks.py): a second when the first expired unopened, no third.';

update caregivers set link_offers = 1 where link_offered_at is not null;

-- The worker's look-up: caregivers not offered yet, and those offered once (whose link may have
-- expired); the few of them are filtered by link_offered_at.
drop index caregivers_awaiting_link_idx;
create index caregivers_awaiting_link_idx on caregivers (patient_id)
  where awaiting_link_since is not null and link_offers < 2;
