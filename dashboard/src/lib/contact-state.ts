/**
 * Why a contact point no longer receives messages, in words a clinician can act on. Pure: used by
 * the patient page, unit-tested without a server.
 *
 * The worker marks a contact point after a provider's permanent refusal (scheduler/delivery.py,
 * `deactivate_contacts`): `blocked_at` when Telegram says the chat is gone (the patient blocked
 * the bot, the chat is not found, the account was deleted), `opted_out_at` when Twilio answers
 * 21610 (the number replied STOP to the carrier); `last_error` keeps the provider's words. The bot
 * sets `opted_out_at` itself when the patient sends STOP (no `last_error` then). A blocked
 * Telegram chat is usable again as soon as the patient writes to the bot; an opt-out lasts until
 * the patient sends START. Meanwhile reminders go by the patient's next usable channel.
 */

/** What the page knows of a contact point. */
export interface ContactFacts {
  channel: string;
  active: boolean;
  blocked_at: string | null;
  opted_out_at: string | null;
  last_error: string | null;
  /** Another patient record's address, kept here only as an invitation to its owner. */
  held_elsewhere?: boolean;
}

/** A stopped contact point: since when, why, and what lifts it. */
export interface ContactStop {
  state: "blocked" | "opted out";
  since: string;
  why: string;
  until: string;
}

// The provider's words (lower case, substrings) and what they mean; first match wins.
const BLOCK_REASONS: readonly (readonly [string, string])[] = [
  ["bot was blocked by the user", "the patient blocked the bot on Telegram"],
  ["chat not found", "Telegram does not know this chat (chat not found): the patient deleted it or never started the bot"],
  ["bot can't initiate conversation", "the patient has not started the bot on Telegram"],
  ["user is deactivated", "the patient's Telegram account was deleted"],
  ["bot was kicked", "the bot was removed from the chat"],
  ["bot is not a member", "the bot is no longer in the chat"],
];

/** The reason in words for a block, from the provider's error text. */
export function blockReason(lastError: string | null): string {
  const text = (lastError ?? "").toLowerCase();
  const known = BLOCK_REASONS.find(([words]) => text.includes(words));
  if (known) return known[1];
  return lastError ? `the provider refused it for good: ${lastError}` : "the provider refused it for good";
}

/** The reason in words for an opt-out. */
export function optOutReason(lastError: string | null): string {
  const text = (lastError ?? "").toLowerCase();
  if (text.includes("21610") || text.includes("replied stop")) {
    return "the number replied STOP to the carrier (Twilio 21610)";
  }
  if (lastError) return `opted out: ${lastError}`;
  return "the patient sent STOP";
}

/** Why the contact point receives nothing now, or null when it is not stopped. */
export function contactStop(c: ContactFacts): ContactStop | null {
  if (c.opted_out_at) {
    return { state: "opted out", since: c.opted_out_at, why: optOutReason(c.last_error), until: "until the patient sends START" };
  }
  if (c.blocked_at) {
    const until = c.channel === "telegram" ? "until the patient writes to the bot again" : "until the address is changed";
    return { state: "blocked", since: c.blocked_at, why: blockReason(c.last_error), until };
  }
  return null;
}

/** Whether messages may go to the contact point. */
export function contactUsable(c: ContactFacts): boolean {
  return c.active && !c.opted_out_at && !c.blocked_at && !c.held_elsewhere;
}

/**
 * The channel reminders go by, as the worker's `auto` routing picks it (scheduler/routing.py): the
 * channel the patient chose for medication messages if usable, else the first usable one in the
 * patient's channel order; null when none is.
 */
export function reminderChannel(
  order: readonly string[],
  contacts: readonly ContactFacts[],
  preferred: string | null = null,
): string | null {
  const usable = new Set(contacts.filter(contactUsable).map((c) => c.channel));
  const candidates = preferred ? [preferred, ...order] : order;
  return candidates.find((channel) => usable.has(channel)) ?? null;
}
