import type { ChannelState } from "@/lib/data/patients";
import { contactStop } from "@/lib/contact-state";

/** A patient's channels with their state in words (not colour alone). */
export function ChannelBadges({ channels }: { channels: ChannelState[] }) {
  if (channels.length === 0) return <span className="badge bad">no channel</span>;
  return (
    <>
      {channels.map((c) => {
        // Why a stopped channel gets nothing, on hover (the patient page says it in full).
        const stop = contactStop(c);
        const state = c.held_elsewhere
          ? { text: "not usable", tone: "bad" }
          : stop
          ? { text: stop.state, tone: "bad" }
          : !c.active
            ? { text: "inactive", tone: "warn" }
            : c.verified
              ? { text: "ok", tone: "ok" }
              : { text: "unverified", tone: "warn" };
        return (
          <span
            key={`${c.channel}-${c.address}`}
            className={`badge ${state.tone}`}
            title={
              c.held_elsewhere
                ? "Another patient record has this address: nothing is sent to it for this patient"
                : stop
                  ? `${stop.why}; nothing is sent there ${stop.until}`
                  : undefined
            }
          >
            {c.channel}: {state.text}
          </span>
        );
      })}
    </>
  );
}
