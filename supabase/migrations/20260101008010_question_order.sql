-- Questions asked at the same instant (one dispatcher batch, an injected clock) keep the order
-- they were recorded in: the answer router takes the newest open question, and "newest" must
-- not depend on how Postgres happens to return ties.
alter table public.conversation_questions
  add column seq bigint generated always as identity;
drop index public.conversation_questions_open_idx;
create index conversation_questions_open_idx
  on public.conversation_questions (channel, chat_address, asked_at desc, seq desc)
  where answered_at is null;
