"use server";

import QRCode from "qrcode";
import { currentClinician } from "@/lib/auth";
import { SESSION_ENDED } from "@/lib/form-state";
import { asClinician, isUuid } from "@/lib/db";
import { createInvite } from "@/lib/data/invites";
import { formatInZone, patientTimeNote } from "@/lib/time";
import { erasedRefusal, errorMessage } from "@/lib/errors";

export interface InviteState {
  error?: string;
  /** The session had ended: nothing was made (the page asks for the password; lib/form-state.ts). */
  code?: typeof SESSION_ENDED;
  token?: string;
  link?: string | null;
  qrSvg?: string | null;
  expires?: string;
}

/** Make a one-time invite and return it to this page only (it is not stored in clear). */
export async function createInviteAction(_previous: InviteState, formData: FormData): Promise<InviteState> {
  // Not a redirect to sign-in: the patient's page may hold a form being filled in.
  const clinician = await currentClinician();
  if (!clinician) return { code: SESSION_ENDED, error: "Your session has ended: sign in again at the top of the page." };
  const patientId = String(formData.get("patient_id") ?? "");
  if (!isUuid(patientId)) return { error: "That patient was not found." };
  const invite = await asClinician(clinician.id, (tx) => createInvite(tx, patientId)).catch((error: unknown) => {
    // Erased while their page was open (migration 20260101018950): no invite was made.
    if (erasedRefusal(error)) return "erased" as const;
    throw error;
  });
  if (invite === "erased") return { error: errorMessage("patient_erased_meanwhile") ?? undefined };
  if (!invite) return { error: "That patient was not found." };
  const patientNote = patientTimeNote(invite.expiresAt, clinician.timezone, invite.patientTimezone);
  const bot = process.env.TELEGRAM_BOT_USERNAME?.replace(/^@/, "");
  const link = bot ? `https://t.me/${bot}?start=${invite.token}` : null;
  const qrSvg = link ? await QRCode.toString(link, { type: "svg", margin: 1, errorCorrectionLevel: "M" }) : null;
  return {
    token: invite.token,
    link,
    qrSvg,
    // Named with its zone, and the patient's own time when their clock differs: the page's lists
    // are in two zones, and it is the patient who must open the link before then.
    expires: `${formatInZone(invite.expiresAt, clinician.timezone)} (${clinician.timezone}${
      patientNote ? `; ${patientNote}` : ""
    })`,
  };
}
