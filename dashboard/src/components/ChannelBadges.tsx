import type { ChannelState } from "@/lib/data/patients";

/** A patient's channels with their state in words (not colour alone). */
export function ChannelBadges({ channels }: { channels: ChannelState[] }) {
  if (channels.length === 0) return <span className="badge bad">no channel</span>;
  return (
    <>
      {channels.map((c) => {
        const state = c.blocked
          ? { text: "blocked", tone: "bad" }
          : c.opted_out
            ? { text: "opted out", tone: "bad" }
            : !c.active
              ? { text: "inactive", tone: "warn" }
              : c.verified
                ? { text: "ok", tone: "ok" }
                : { text: "unverified", tone: "warn" };
        return (
          <span key={`${c.channel}-${c.address}`} className={`badge ${state.tone}`}>
            {c.channel}: {state.text}
          </span>
        );
      })}
    </>
  );
}
