import type { CaregiverRow } from "@/lib/data/patients";
import { formatInZone } from "@/lib/time";

/**
 * What the clinician reads about a Telegram caregiver whose chat id was typed in before caregiver
 * links (migration 20260101014300): no alerts, why, and where the link the patient forwards
 * stands (not sent yet, sent and working until when, expired unopened with a second and last one
 * to come, or the last expired too: 20260101014400), so the clinic knows whether to wait or to
 * ask the patient.
 */
export function CaregiverAwaitsLink({ caregiver: c, timezone }: { caregiver: CaregiverRow; timezone: string }) {
  const sent = formatInZone(c.link_offered_at, timezone);
  const until = formatInZone(c.link_expires_at, timezone);
  // The service sends a second and last link when the first expires unopened (link_offers).
  const last = c.link_offers >= 2;
  const link = !c.link_offered_at
    ? "No link has gone to the patient yet: the service sends them one to forward once they can be messaged."
    : !c.link_expired
      ? `The patient was sent ${last ? "a second and last" : "a"} link to forward on ${sent}; alerts resume once ${c.name} opens it (it works until ${until}).`
      : !last
        ? `The link sent to the patient on ${sent} expired unopened on ${until}: the service sends them a second and last one once they can be messaged.`
        : `The second and last link sent to the patient, on ${sent}, expired unopened on ${until}. To alert ${c.name} again, the patient names them anew in the bot (/settings > Caregiver, which replaces the patient's other caregivers).`;
  return (
    <span data-testid="caregiver-awaits-link">
      <strong>{" · no alerts: awaits their link"}</strong>
      <span className="hint" style={{ display: "block" }}>
        {`This Telegram chat id was typed in, not linked by the caregiver's own chat, so it may be someone else's. ${link} Alerts not sent are in the patient's messages.`}
      </span>
    </span>
  );
}
