import type { Metadata } from "next";
import { TemplateEditor } from "@/components/TemplateEditor";
import { requireClinician } from "@/lib/auth";
import { asClinician } from "@/lib/db";
import { KIND_LABELS } from "@/lib/template-kinds";
import { listTemplates } from "@/lib/data/templates";
import { smsMaxSegments } from "@/lib/data/limits";
import { errorMessage } from "@/lib/errors";
import { smsCount } from "@/lib/sms";
import { formatInZone } from "@/lib/time";
import { apiValidationConfigured } from "@/lib/template-api";
import { hasLineBreak } from "@/lib/control-characters";
import { checkTemplateAction, deleteTemplateAction, renameTemplateAction, saveTemplateAction } from "./actions";

/** A name as one line: each run of line breaks and control characters a space (the Rename field's start). */
function oneLine(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").trim();
}

export const metadata: Metadata = { title: "Templates" };

export default async function TemplatesPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const clinician = await requireClinician();
  const params = await searchParams;
  const { templates, maxSegments } = await asClinician(clinician.id, async (tx) => ({
    templates: await listTemplates(tx),
    maxSegments: await smsMaxSegments(tx),
  }));
  const error = errorMessage(params.error);
  const isAdmin = clinician.role === "admin";
  return (
    <>
      <h1>Message templates</h1>
      {error ? <p role="alert" className="alert">{error}</p> : null}
      {params.saved ? <p role="status" className="notice">Template saved.</p> : null}
      {params.renamed ? <p role="status" className="notice">Template renamed, every version (and the messages waiting to be sent with it).</p> : null}
      <section className="panel" aria-labelledby="tpl-new-h">
        <h2 id="tpl-new-h">New or replace</h2>
        <p className="muted">Saving a name, language and channel that exist replaces that template&apos;s text.</p>
        <TemplateEditor
          saveAction={saveTemplateAction}
          checkAction={checkTemplateAction}
          clinicName={clinician.organizationName}
          serverValidates={apiValidationConfigured()}
          smsMaxSegments={maxSegments}
          canSave={isAdmin}
        />
      </section>
      <div className="panel table-wrap">
        <table>
          <caption>{templates.length} template{templates.length === 1 ? "" : "s"}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Used for</th>
              <th scope="col">Language</th>
              <th scope="col">Channel</th>
              <th scope="col">Text</th>
              <th scope="col">Updated</th>
              <th scope="col"><span className="muted">Delete</span></th>
            </tr>
          </thead>
          <tbody>
            {templates.map((t, i) => (
              <tr key={t.id} data-testid="template-row">
                <td>
                  {t.name}
                  {hasLineBreak(t.name) ? (
                    <div className="muted" style={{ fontSize: "0.85rem" }}>
                      This name is on more than one line (saved before names had to be one line), so it can take no new version: rename it.
                    </div>
                  ) : null}
                  {isAdmin && templates[i - 1]?.name !== t.name ? (
                    <details>
                      <summary>Rename</summary>
                      <form action={renameTemplateAction}>
                        <input type="hidden" name="version_id" value={t.id} />
                        <label>
                          New name
                          <input name="new_name" defaultValue={oneLine(t.name)} required maxLength={100} />
                        </label>
                        <button type="submit" aria-label={`Rename template ${oneLine(t.name)}`}>Rename every version</button>
                      </form>
                    </details>
                  ) : null}
                </td>
                <td>
                  {t.kind === "free_text"
                    ? "Compose"
                    : `${t.automatic ? "Automatic: " : ""}${KIND_LABELS[t.kind] ?? t.kind}`}
                </td>
                <td>{t.locale}</td>
                <td>{t.channel === "default" ? "any" : t.channel}</td>
                <td style={{ maxWidth: 420 }}>
                  <span className="message-text">{t.body}</span>
                  <div className="muted" style={{ fontSize: "0.85rem" }}>
                    {t.body.length} characters · SMS {smsCount(t.body).segments} segment(s) before names are filled in
                  </div>
                </td>
                <td>{formatInZone(t.updated_at, clinician.timezone)}</td>
                <td>
                  {isAdmin ? (
                    <form action={deleteTemplateAction}>
                      <input type="hidden" name="id" value={t.id} />
                      <button type="submit" className="danger" aria-label={`Delete template ${t.name}`}>Delete</button>
                    </form>
                  ) : null}
                </td>
              </tr>
            ))}
            {templates.length === 0 ? <tr><td colSpan={7} className="muted">No templates yet.</td></tr> : null}
          </tbody>
        </table>
      </div>
    </>
  );
}
