"use server";

import QRCode from "qrcode";
import { requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { createInvite } from "@/lib/data/invites";
import { formatInZone } from "@/lib/time";

export interface InviteState {
  error?: string;
  token?: string;
  link?: string | null;
  qrSvg?: string | null;
  expires?: string;
}

/** Make a one-time invite and return it to this page only (it is not stored in clear). */
export async function createInviteAction(_previous: InviteState, formData: FormData): Promise<InviteState> {
  const clinician = await requireClinician();
  const patientId = String(formData.get("patient_id") ?? "");
  if (!isUuid(patientId)) return { error: "That patient was not found." };
  const invite = await asClinician(clinician.id, (tx) => createInvite(tx, patientId));
  if (!invite) return { error: "That patient was not found." };
  const bot = process.env.TELEGRAM_BOT_USERNAME?.replace(/^@/, "");
  const link = bot ? `https://t.me/${bot}?start=${invite.token}` : null;
  const qrSvg = link ? await QRCode.toString(link, { type: "svg", margin: 1, errorCorrectionLevel: "M" }) : null;
  return {
    token: invite.token,
    link,
    qrSvg,
    expires: formatInZone(invite.expiresAt, clinician.timezone),
  };
}
