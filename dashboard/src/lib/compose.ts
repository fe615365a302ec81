/**
 * Composing from a saved clinic template: which versions a template has, which one a preview
 * shows, and whether the chosen channel has a version at all. Pure: used by the compose page, the
 * form in the browser and the server action.
 *
 * The message itself is rendered by the Python worker, per patient (`render_claim` in
 * scheduler/rendering.py): the row only names the template (`scheduled_messages.template`), and
 * the worker picks the patient's locale and the channel the message goes out on with
 * `pick_version` (scheduler/custom_templates.py), which `pickVersion` below mirrors.
 */

/** The language the worker falls back to (core/templating.py FALLBACK_LOCALE). */
export const FALLBACK_LOCALE = "en";
/** The channel of a version that serves every channel without its own. */
export const ANY_CHANNEL = "default";
/** Same bound as the Templates page's name field. */
export const TEMPLATE_NAME_MAX = 100;

/** One saved version (language and channel) of a template. */
export interface TemplateVersion {
  name: string;
  locale: string;
  channel: string;
  body: string;
}

/** A template as Compose offers it: its name, what versions exist, and the text to preview. */
export interface TemplateChoice {
  name: string;
  /** `locale/channel` of every version, sorted (e.g. `en/default`, `es/sms`). */
  versions: string[];
  /** The version a preview shows (see `templateChoices`). */
  preview: TemplateVersion;
}

/**
 * The version the worker would send for `locale` on `channel`: the locale, then its language
 * (`es` for `es-MX`), then English, then any other locale alphabetically; within a locale the
 * channel, then `default`. Null when no version fits the channel.
 */
export function pickVersion<T extends TemplateVersion>(versions: readonly T[], locale: string, channel: string): T | null {
  const language = (locale.replaceAll("-", "_").split("_")[0] ?? "").toLowerCase();
  const byKey = new Map(versions.map((v) => [`${v.locale}\u0000${v.channel}`, v]));
  const others = [...new Set(versions.map((v) => v.locale))].sort();
  for (const loc of new Set([locale, language, FALLBACK_LOCALE, ...others])) {
    for (const chan of [channel, ANY_CHANNEL]) {
      const found = byKey.get(`${loc}\u0000${chan}`);
      if (found) return found;
    }
  }
  return null;
}

/**
 * The organization's templates by name, each previewed in `locale` (the clinic's default
 * language) for any channel; a template with channel-specific versions only is previewed from
 * the first of them.
 */
export function templateChoices(rows: readonly TemplateVersion[], locale: string): TemplateChoice[] {
  const byName = new Map<string, TemplateVersion[]>();
  for (const row of rows) byName.set(row.name, [...(byName.get(row.name) ?? []), row]);
  return [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, versions]) => {
      const sorted = [...versions].sort((a, b) => `${a.locale}/${a.channel}`.localeCompare(`${b.locale}/${b.channel}`));
      const preview = pickVersion(sorted, locale, ANY_CHANNEL) ?? (sorted[0] as TemplateVersion);
      return { name, versions: sorted.map((v) => `${v.locale}/${v.channel}`), preview };
    });
}

/**
 * Why the template cannot go out on `platform` (a channel, or `auto` for the patient's
 * preference), or null when it can. The worker fails a message whose template has no version for
 * the channel it goes out on; with `auto` that channel is only known per patient, so a version for
 * any channel is required.
 */
export function templateChannelProblem(versions: readonly Pick<TemplateVersion, "channel">[], platform: string): string | null {
  if (versions.length === 0) return "The template has no saved text.";
  const channels = new Set(versions.map((v) => v.channel));
  if (channels.has(ANY_CHANNEL)) return null;
  const listed = [...channels].sort().join(", ");
  if (platform === "auto") {
    return `The template only has versions for ${listed}: choose one of those channels, or save a version for any channel.`;
  }
  if (channels.has(platform)) return null;
  return `The template has no version for ${platform} (only ${listed}): choose another channel, or save a version for ${platform} or any channel.`;
}

/** A template name as the form sends it: trimmed, non-empty and within bounds, or null. */
export function templateNameFromForm(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const name = value.trim();
  return name && name.length <= TEMPLATE_NAME_MAX ? name : null;
}

/** Where a message could go for one patient: a row of composeReach (lib/data/messages.ts). */
export interface PatientReach {
  channel_order: readonly string[];
  /** The patient's channel for the message's category, if they chose one. */
  category_channel: string | null;
  /** Channels with a contact point that may be written to now (active, not opted out or blocked). */
  usable_channels: readonly string[];
}

/**
 * The channels the worker would try for a compose message, in order: the API's route_channels
 * (medremind/web/api_v1/message_reach.py) with fallback on, as every dashboard message allows
 * fallback (scheduled_messages.allow_fallback defaults to true): the chosen channel (for `auto`
 * the category's), then the channel order, each only if it may be written to. Empty: the
 * message would fail unsent ("no usable contact point in the patient's channel order").
 */
export function composeRoute(platform: string, reach: PatientReach): string[] {
  const first = platform !== "auto" ? platform : reach.category_channel;
  const order = first ? [first] : [];
  for (const channel of reach.channel_order) if (!order.includes(channel)) order.push(channel);
  return order.filter((channel) => reach.usable_channels.includes(channel));
}
