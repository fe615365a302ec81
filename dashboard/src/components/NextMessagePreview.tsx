import type { ApiPreview } from "@/lib/template-api";
import type { NextMessage } from "@/lib/data/next-message";
import { KIND_LABELS } from "@/lib/template-kinds";
import { formatInZone } from "@/lib/time";

interface Props {
  next: NextMessage | null;
  preview: ApiPreview | null;
  /** Why there is no preview although a message is planned (API not configured or down). */
  problem: string | null;
  timezone: string;
}

/** The patient's next automatic message, rendered by the MedRemind service as it will be sent. */
export function NextMessagePreview({ next, preview, problem, timezone }: Props) {
  if (!next) return <p className="muted">No automatic message is planned for this patient.</p>;
  return (
    <div data-testid="next-message">
      <p style={{ marginTop: 0 }}>
        <strong>{KIND_LABELS[next.kind] ?? next.kind}</strong> · {formatInZone(next.scheduled_time, timezone)} ·{" "}
        {next.channel ?? "no usable channel"} · {next.locale}
      </p>
      {preview ? (
        <>
          <pre
            className="message-text"
            style={{ background: "#eef3f8", padding: "0.75rem", borderRadius: 8, fontFamily: "inherit" }}
            data-testid="next-message-text"
          >
            {preview.text}
          </pre>
          <p className="hint" data-testid="next-message-source">
            {preview.source === "clinic" && preview.template
              ? `Your clinic's template "${preview.template.name}" (${preview.template.locale}, ${preview.template.channel === "default" ? "any channel" : preview.template.channel})`
              : next.versions.length > 0
                ? `MedRemind's built-in text: your clinic's template for this message has no version for ${next.locale} on ${next.channel ?? "this channel"}`
                : "MedRemind's built-in text (your clinic has no template for this message)"}
            {" · "}
            {preview.length} characters · SMS {preview.segments} segment{preview.segments === 1 ? "" : "s"} ({preview.encoding})
          </p>
          {preview.note ? (
            <p role="alert" className="error" data-testid="next-message-note">
              Your clinic&apos;s template cannot be used, so the built-in text goes out: {preview.note}
            </p>
          ) : null}
        </>
      ) : (
        <p className="muted">{problem}</p>
      )}
    </div>
  );
}
