-- A chat's open questions are ordered by (asked_at, seq): the question asked last gets a typed
-- answer (bot/routing.py). The dialog's own question lives in the conversation's state, not in
-- conversation_questions, and had only its asked_at: on a tie (two questions stamped at one
-- instant: a frozen test clock, or two clocks agreeing to the microsecond) the router put the
-- recorded questions first whatever the order they were asked in, so a "1" meant for the
-- /settings menu the patient had just opened could record a reminder's dose as taken.
--
-- The turn that asks the dialog's question now takes its place in the same order: finish_turn
-- (core/sql/bot.sql) stores nextval of seq's sequence in the state as "asked_seq", after every
-- question recorded before the turn's end and before every one recorded after it. nextval, not
-- the chat's highest seq: no index scan per turn, and no tie with a question recorded in a
-- transaction that had drawn its seq and not committed yet.
--
-- Identity columns draw their values without any privilege on the sequence; finish_turn runs
-- as the service role and calls nextval itself. USAGE allows nextval and currval only (setval
-- needs UPDATE). The sequence is named by the identity column (migration 20260101008010).
grant usage on sequence public.conversation_questions_seq_seq to medremind_app;

comment on column public.conversation_questions.seq is
  'Order of recording: breaks ties of asked_at. A message sent again takes a new one with its new '
  'asked_at; the dialog''s question draws one when asked (conversations.state asked_seq).';
