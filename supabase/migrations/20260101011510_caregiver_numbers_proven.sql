-- A caregiver's phone number that a patient of no clinic typed is proven before it gets alerts.
--
-- Anyone can register on the service's bot and name a caregiver by any phone number; every dose
-- they then leave unanswered (12 times a day per medicine, any number of medicines) sent an SMS
-- or WhatsApp alert there at the service's cost: a stranger's phone, or a premium-rate one (SMS
-- pumping). Such a number now gets alerts once it has sent a text to the service (proven_at,
-- set by the bot's turn for any SMS or WhatsApp message from it: bot.sql
-- prove_caregiver_address). A clinic's patients' caregivers are the clinic's word, Telegram
-- chats can only be written to once they started the bot, and e-mail costs nothing per message:
-- those are not held (planner.sql mark_missed).
alter table caregivers add column proven_at timestamptz;

-- Numbers that have written to the service already are proven.
update caregivers c set proven_at = c.created_at
 where c.channel in ('sms', 'whatsapp')
   and exists (select 1 from conversations v
                where v.channel = c.channel and v.chat_address = c.address);

-- The bot's lookup for every SMS and WhatsApp message.
create index caregivers_unproven_address_idx on caregivers (channel, address)
  where proven_at is null;
