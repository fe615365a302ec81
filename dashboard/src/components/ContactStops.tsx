import type { ChannelState } from "@/lib/data/patients";
import { contactStop, reminderChannel } from "@/lib/contact-state";
import { formatInZone } from "@/lib/time";

/**
 * The patient's contact points that receive nothing now (blocked by the provider, opted out), with
 * when and why, and the channel reminders go by meanwhile: so a clinician sees why a Telegram
 * patient's reminders arrive by SMS.
 */
export function ContactStops({
  channels,
  order,
  preferred,
  timezone,
}: {
  channels: ChannelState[];
  order: string[];
  preferred: string | null;
  timezone: string;
}) {
  const stopped = channels
    .map((c) => ({ contact: c, stop: contactStop(c) }))
    .filter((s): s is { contact: ChannelState; stop: NonNullable<ReturnType<typeof contactStop>> } => s.stop !== null);
  if (stopped.length === 0) return null;
  const via = reminderChannel(order, channels, preferred);
  return (
    <div data-testid="contact-stops">
      <ul className="stops">
        {stopped.map(({ contact, stop }) => (
          <li key={`${contact.channel}-${contact.address}`} data-testid={`stop-${contact.channel}`}>
            <strong>
              {contact.channel} {stop.state}
            </strong>{" "}
            since {formatInZone(stop.since, timezone)}: {stop.why}. Nothing is sent there {stop.until}.
          </li>
        ))}
      </ul>
      <p data-testid="reminders-via">
        {via ? (
          <>
            Reminders now go by <strong>{via}</strong>.
          </>
        ) : (
          <span className="alert" style={{ display: "inline-block" }}>
            No usable channel is left: nothing can be sent to this patient until one is.
          </span>
        )}
      </p>
    </div>
  );
}
