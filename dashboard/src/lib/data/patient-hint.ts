import "server-only";

/**
 * A patient's first contact point (in their channel order) masked, for telling unnamed patients
 * apart (lib/patient-label.ts): "SMS …0199", "e-mail a…@example.org"; never the whole address,
 * which so never reaches the browser. Null: no phone, chat or e-mail. Over `patients p`.
 */
export const CONTACT_HINT = `
  (select case when c.channel = 'email'
               then 'e-mail ' || left(c.address, 1) || '…@' || split_part(c.address, '@', 2)
               else case c.channel when 'sms' then 'SMS' when 'whatsapp' then 'WhatsApp'
                                   else 'Telegram' end || ' …' || right(c.address, 4) end
     from contact_points c
    where c.patient_id = p.id and c.channel in ('sms', 'whatsapp', 'telegram', 'email')
    order by coalesce(array_position(p.channel_order, c.channel), 99), c.created_at
    limit 1)`;
