import type { ChannelState } from "@/lib/data/patients";

/**
 * The addresses entered for this patient that another patient record holds (lib/address-held.ts):
 * nothing is sent to them for this patient, what to do instead, and nothing about the holder.
 */
export function HeldAddresses({ channels }: { channels: ChannelState[] }) {
  const held = channels.filter((c) => c.held_elsewhere);
  if (held.length === 0) return null;
  return (
    <div className="alert" data-testid="held-elsewhere">
      {held.map((c) => (
        <p key={`${c.channel}-${c.address}`} style={{ margin: "0 0 0.5rem" }}>
          <strong>
            {c.channel} {c.address}: not usable for this patient.
          </strong>{" "}
          It is registered in MedRemind to another record, and one address reaches one patient, so
          nothing is sent to it for this one.
        </p>
      ))}
      <p style={{ margin: 0 }}>
        If it is this patient&apos;s own and they already use MedRemind with it, press Make an invite
        link below and have them open it (or send its code) from that chat: joining your clinic brings
        it to this record. Otherwise link Telegram with an invite link, or ask for another number or
        e-mail address.
      </p>
    </div>
  );
}
