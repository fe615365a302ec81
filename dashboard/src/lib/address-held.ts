/**
 * A phone number or e-mail address the clinic enters that another patient record already holds
 * (contact_points' (channel, address) is unique: one address reaches one patient). Nothing would
 * be sent to it for the new patient, so New patient says so at once, naming the field, and what
 * to do; it used to create the patient, show "sms: ok" and fail the first message with "no
 * usable channel". What it says holds nothing about the holder: another clinic's patient and a
 * patient registered on their own read the same. Only the clinic's own patient (whose record row-
 * level security shows it anyway) is linked. docs/data-model.md, "One person, one record".
 */

/** The error code (lib/errors.ts) for a held address on `channel`; `own`: the clinic's own patient holds it. */
export function heldCode(channel: string, own: boolean): string {
  if (own) return "address_held_here";
  return channel === "email" ? "address_held_email" : "address_held_phone";
}

/** The codes heldCode gives for an address some other record holds (the form offers to invite). */
export const HELD_ELSEWHERE_CODES: ReadonlySet<string> = new Set(["address_held_phone", "address_held_email"]);
