import type { Metadata } from "next";
import { requireClinician } from "@/lib/auth";
import { asClinician } from "@/lib/db";
import { errorMessage } from "@/lib/errors";
import { ClinicSettingsForm } from "@/components/ClinicSettingsForm";
import { PeakSettings } from "@/components/PeakSettings";
import { PatientCapsSettings } from "@/components/PatientCapsSettings";
import { otherCaps } from "@/lib/patient-caps";
import { ProviderAccounts } from "@/components/ProviderAccounts";
import { accountsConfigured, listAccounts } from "@/lib/provider-accounts";
import { offsetsInput } from "@/lib/offsets";
import { saveAccountAction, saveCapacityAction, savePatientCapsAction, saveSettingsAction } from "./actions";

export const metadata: Metadata = { title: "Settings" };

export default async function SettingsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const clinician = await requireClinician();
  const params = await searchParams;
  const [org] = await asClinician(clinician.id, (tx) => tx<
    {
      name: string;
      timezone: string;
      offsets: number[];
      quiet_start: string;
      quiet_end: string;
      caps: Record<string, number>;
      cap_hour: number;
      cap_day: number;
      early_send_seconds: Record<string, unknown>;
      paid_after: number | null;
    }[]
  >`
    select name, timezone, appointment_reminder_offsets as offsets, early_send_seconds,
           telegram_paid_broadcast_after_seconds as paid_after,
           to_char(default_quiet_start, 'HH24:MI') as quiet_start,
           to_char(default_quiet_end, 'HH24:MI') as quiet_end, caps,
           (public.clinic_message_caps_in_effect(caps)).hour as cap_hour,
           (public.clinic_message_caps_in_effect(caps)).day as cap_day
      from organizations where id = public.current_organization_id()`);
  const accounts = await asClinician(clinician.id, (tx) => listAccounts(tx));
  const one = (v: string | string[] | undefined) => (typeof v === "string" ? v : null);
  const error = errorMessage(params.error);
  if (!org) return <p>Organization not found.</p>;
  return (
    <>
      <h1>Organization settings</h1>
      {error ? <p role="alert" className="alert">{error}</p> : null}
      {params.saved ? <p role="status" className="notice">Saved.</p> : null}
      <ClinicSettingsForm
        action={saveSettingsAction}
        isAdmin={clinician.role === "admin"}
        saved={{
          name: org.name,
          timezone: org.timezone,
          offsets: offsetsInput(org.offsets),
          quiet_start: org.quiet_start,
          quiet_end: org.quiet_end,
        }}
        caps={otherCaps(org.caps).map(([k, v]) => `${k.replaceAll("_", " ")}: ${v}`).join(" · ") || "none"}
      />
      <PeakSettings
        earlySendSeconds={org.early_send_seconds}
        paidAfterSeconds={org.paid_after}
        isAdmin={clinician.role === "admin"}
        action={saveCapacityAction}
        saved={params.capacity_saved === "1"}
      />
      <PatientCapsSettings
        caps={org.caps}
        inEffect={{ hour: org.cap_hour, day: org.cap_day }}
        isAdmin={clinician.role === "admin"}
        action={savePatientCapsAction}
        saved={params.caps_saved === "1"}
      />
      <ProviderAccounts
        action={saveAccountAction}
        accounts={accounts}
        isAdmin={clinician.role === "admin"}
        configured={accountsConfigured()}
        focus={one(params.account)}
        error={one(params.account_error)}
        errorField={one(params.account_field)}
        saved={one(params.account_saved)}
      />
    </>
  );
}
