const TONES: Record<string, string> = {
  sent: "ok",
  delivered: "ok",
  taken: "ok",
  confirmed: "ok",
  failed: "bad",
  undelivered: "bad",
  missed: "bad",
  unreachable: "bad",
  expired: "bad",
  cancelled: "neutral",
  skipped: "warn",
  rate_limited: "warn",
  pending: "warn",
  processing: "warn",
  snoozed: "warn",
};

/** A status in words with a tone. */
export function StatusBadge({ status, testId }: { status: string; testId?: string }) {
  return (
    <span className={`badge ${TONES[status] ?? "neutral"}`} data-testid={testId} data-status={status}>
      {status.replace("_", " ")}
    </span>
  );
}
