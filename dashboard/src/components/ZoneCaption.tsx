import { zoneCaption } from "@/lib/time";

/** Which zone a list of times on a patient's page is in, when the patient's is not the clinic's. */
export function ZoneCaption({
  whose,
  patientZone,
  clinicZone,
}: {
  whose: "patient" | "clinic";
  patientZone: string;
  clinicZone: string;
}) {
  const caption = zoneCaption(whose, patientZone, clinicZone);
  return caption ? <p className="muted" data-testid={`zone-caption-${whose}`}>{caption}</p> : null;
}
