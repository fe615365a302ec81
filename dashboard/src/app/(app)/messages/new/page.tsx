import type { Metadata } from "next";
import { ComposeForm } from "@/components/ComposeForm";
import { requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { patientOptions } from "@/lib/data/patients";
import { composeTemplates } from "@/lib/data/templates";
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
  const requested = typeof params.patient === "string" && isUuid(params.patient) ? params.patient : "";
  const { picker, templates } = await asClinician(clinician.id, async (tx) => ({
    picker: await patientOptions(tx, requested || null),
    templates: await composeTemplates(tx),
  }));
  const patients = picker.patients;
  const defaultPatient = patients.some((p) => p.id === requested) ? requested : "";
  // Compose can be opened on a template (?source=template&template=<name>).
  const requestedTemplate = typeof params.template === "string" ? params.template : "";
  const defaultTemplate = templates.templates.some((t) => t.name === requestedTemplate) ? requestedTemplate : "";
  return (
    <>
      <h1>Compose a message</h1>
      <ComposeForm
        action={scheduleMessageAction}
        countGroup={countGroupAction}
        patients={patients}
        patientTotal={picker.total}
        defaultPatient={defaultPatient}
        defaultAudience={params.audience === "group" ? "group" : "one"}
        defaultSource={params.source === "template" && templates.templates.length > 0 ? "template" : "free"}
        defaultTemplate={defaultTemplate}
        timezone={clinician.timezone}
        clinicName={clinician.organizationName}
        clinicLocale={templates.locale}
        templates={templates.templates}
        defaultLocalTime={localInputValue(new Date(Date.now() + 60 * 60 * 1000), clinician.timezone)}
      />
    </>
  );
}
