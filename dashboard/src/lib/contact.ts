/**
 * Contact addresses as the Python side stores and looks them up. Pure: used by the server action.
 *
 * A contact point is found again by exact text (`contact_points.address`): the bot links an
 * inbound Telegram update by `str(chat.id)` and an SMS or WhatsApp message by the E.164 number
 * Twilio puts in `From`; STOP, answers and /start all go through that lookup. An address stored in
 * any other spelling ("+4407911123456" for +447911123456, Telegram "0123" for 123) still reaches the
 * patient, but nothing the patient sends back finds them: a STOP does not opt the contact point
 * out, dose answers go nowhere, and /start makes a second patient. A number Twilio cannot use
 * (`platforms.twilio_common.normalize_e164` refuses numbers that are not valid for their country)
 * means no message at all. So the dashboard stores the canonical form, or refuses the address.
 */
import { parsePhoneNumberFromString } from "libphonenumber-js/max";

// Telegram chat ids have at most 52 significant bits (Bot API); 0 is no chat.
const TELEGRAM_MAX_ID = 2n ** 52n;

/**
 * The address as the Python side spells it for `channel`, or null when it cannot be used there:
 * Telegram chat ids as decimal integers without leading zeros, phone numbers (SMS, WhatsApp) in
 * E.164 form and valid for their country (as Python's phonenumbers, which the senders use, judges
 * them), e-mail addresses in lower case (trimmed) when they look like one: one mailbox whatever its
 * case, as the database stores every e-mail contact point (migration 20260101018040), so the
 * look-up of an address another record holds finds it.
 */
export function canonicalAddress(channel: string, address: string): string | null {
  const typed = address.trim();
  if (channel === "telegram") {
    if (!/^-?\d{1,20}$/.test(typed)) return null;
    const id = BigInt(typed);
    if (id === 0n || id >= TELEGRAM_MAX_ID || id <= -TELEGRAM_MAX_ID * 1000n) return null;
    return id.toString();
  }
  if (channel === "email") {
    return typed.length <= 254 && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(typed) ? typed.toLowerCase() : null;
  }
  if (channel === "sms" || channel === "whatsapp") {
    if (!typed.startsWith("+")) return null;
    const number = parsePhoneNumberFromString(typed);
    return number && number.isValid() ? number.number : null;
  }
  return null;
}

/**
 * The error code (lib/errors.ts) for an address `canonicalAddress` refused on `channel`: each
 * names what that channel needs (a phone number for SMS and WhatsApp, an e-mail address for
 * e-mail), not every kind of address.
 */
export function addressError(channel: string): string {
  return channel === "sms" || channel === "whatsapp" || channel === "email" ? `address_${channel}` : "channel";
}
