/**
 * Message length and SMS segment count, as carriers count them.
 *
 * GSM-7 texts fit 160 characters in one segment and 153 per segment when split (the rest is the
 * concatenation header); characters of the GSM extension table count twice. Anything outside
 * GSM-7 sends the whole text as UCS-2: 70 UTF-16 units in one segment, 67 when split.
 */

const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED = "^{}\\[~]|€\f";

export interface SmsCount {
  encoding: "GSM-7" | "UCS-2";
  /** Characters as the carrier counts them (GSM septets or UTF-16 units). */
  units: number;
  segments: number;
}

/** Count `text` for SMS. */
export function smsCount(text: string): SmsCount {
  let septets = 0;
  let gsm = true;
  for (const ch of text) {
    if (GSM_BASIC.includes(ch)) septets += 1;
    else if (GSM_EXTENDED.includes(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) {
    return { encoding: "GSM-7", units: septets, segments: segments(septets, 160, 153) };
  }
  return { encoding: "UCS-2", units: text.length, segments: segments(text.length, 70, 67) };
}

function segments(units: number, single: number, multi: number): number {
  if (units === 0) return 0;
  return units <= single ? 1 : Math.ceil(units / multi);
}

/**
 * Per-channel limits (characters of one message), as the worker applies them: WhatsApp's is
 * Twilio's body limit (core/templating.py WHATSAPP_MAX_CHARS), which the sender refuses to exceed.
 */
export const CHANNEL_LIMITS: Record<string, number> = {
  telegram: 4096,
  whatsapp: 1600,
  email: 10000,
  console: 10000,
};

/**
 * The longest message Compose takes, in characters (Unicode code points, as the API counts its
 * `text`: MAX_TEXT_LENGTH in medremind/web/api_v1/fields.py): Telegram's limit, and the longest
 * text any channel sends whole.
 */
export const MESSAGE_MAX_CHARS = 4096;

/** Characters of `text` as the API counts them: code points (an emoji is one, not two). */
export function characterCount(text: string): number {
  return Array.from(text).length;
}

/**
 * Why a typed message is longer than a message may be, naming its length, the limit and how much
 * to cut; null when it fits. Said as the clinician types or pastes (a textarea's maxLength cut a
 * pasted text at the limit without a word, and the rest was sent cut short).
 */
export function messageTooLong(text: string): string | null {
  const n = characterCount(text);
  if (n <= MESSAGE_MAX_CHARS) return null;
  const f = (x: number) => x.toLocaleString("en-US");
  return `Message: ${f(n)} characters, longer than a message can be (${f(MESSAGE_MAX_CHARS)} at most). Shorten it by ${f(n - MESSAGE_MAX_CHARS)} characters, or send it as two messages.`;
}

/**
 * SMS segments the worker sends at most when no service has published its setting yet
 * (MEDREMIND_SMS_MAX_SEGMENTS' default). The running limit comes from the database
 * (`service_limits`, read by ./data/limits.ts) and is passed in as `maxSegments`.
 */
export const DEFAULT_SMS_MAX_SEGMENTS = 3;

/**
 * Why `text` is too long for `channel` (a channel, or `default` for a template version that
 * serves any channel, checked against Telegram's limit), or null when it fits. The worker fails
 * a message over these limits without sending it.
 */
export function lengthProblem(text: string, channel: string, maxSegments = DEFAULT_SMS_MAX_SEGMENTS): string | null {
  if (channel === "sms") {
    const count = smsCount(text);
    return count.segments > maxSegments
      ? `Too long for SMS: ${count.segments} segments (${maxSegments} at most).`
      : null;
  }
  const limit = CHANNEL_LIMITS[channel === "default" ? "telegram" : channel] ?? 4096;
  return text.length > limit ? `Too long: ${text.length} characters (${limit} at most).` : null;
}
