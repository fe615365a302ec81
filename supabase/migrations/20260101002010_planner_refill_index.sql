-- Medications whose refill reminder is armed: what the planner's refill scan reads every tick.
create index medications_refill_armed_idx on medications (id)
  where pill_count is not null and refill_reminded_at is null and status = 'active';
