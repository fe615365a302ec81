import type { Metadata } from "next";
import { ComposeForm } from "@/components/ComposeForm";
import { requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { patientOptions } from "@/lib/data/patients";
import { listTemplates } from "@/lib/data/templates";
import { errorMessage } from "@/lib/errors";
import { localInputValue } from "@/lib/time";
import { countGroupAction, scheduleMessageAction } from "../actions";

export const metadata: Metadata = { title: "Compose" };

export default async function ComposePage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const clinician = await requireClinician();
  const params = await searchParams;
  const { patients, templates } = await asClinician(clinician.id, async (tx) => ({
    patients: await patientOptions(tx),
    templates: await listTemplates(tx),
  }));
  const requested = typeof params.patient === "string" && isUuid(params.patient) ? params.patient : "";
  const defaultPatient = patients.some((p) => p.id === requested) ? requested : "";
  const error = errorMessage(params.error);
  return (
    <>
      <h1>Compose a message</h1>
      {error ? <p role="alert" className="alert">{error}</p> : null}
      <ComposeForm
        action={scheduleMessageAction}
        countGroup={countGroupAction}
        patients={patients}
        defaultPatient={defaultPatient}
        timezone={clinician.timezone}
        clinicName={clinician.organizationName}
        templates={templates.map(({ id, name, locale, channel, body }) => ({ id, name, locale, channel, body }))}
        defaultLocalTime={localInputValue(new Date(Date.now() + 60 * 60 * 1000), clinician.timezone)}
      />
    </>
  );
}
