import type { Metadata } from "next";
import { NewPatientForm } from "@/components/NewPatientForm";
import { requireClinician } from "@/lib/auth";
import { createPatientAction } from "../actions";

export const metadata: Metadata = { title: "New patient" };

export default async function NewPatientPage() {
  const clinician = await requireClinician();
  return (
    <>
      <h1>New patient</h1>
      <NewPatientForm action={createPatientAction} timezone={clinician.timezone} />
    </>
  );
}
