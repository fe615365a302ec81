"use client";

import { startTransition, useActionState, useState } from "react";
import { useSessionEndedAnswer } from "@/lib/session-signal";
import type { TemplateCheck } from "@/app/(app)/templates/actions";
import { fillTemplate, templateProblems } from "@/lib/placeholders";
import { TEMPLATE_USES } from "@/lib/template-kinds";

import { smsCount } from "@/lib/sms";

type CheckAction = (prev: TemplateCheck | null, formData: FormData) => Promise<TemplateCheck>;

interface Props {
  saveAction: CheckAction;
  checkAction: CheckAction;
  clinicName: string;
  /** True when the server checks texts with the MedRemind API (MEDREMIND_API_URL is set). */
  serverValidates: boolean;
  /** The SMS segment limit the service enforces (service_limits). */
  smsMaxSegments: number;
  /** Only a clinic's admin may save (the database refuses anyone else); others may check texts. */
  canSave: boolean;
}

/**
 * Create or replace a template, with its problems and a preview as the patient sees it (for an
 * automatic kind, once the service has checked and rendered it with sample values). The
 * server decides whether a text can be saved (with the MedRemind API when configured, otherwise
 * with the dashboard's own rules, which this editor also applies as you type).
 */
export function TemplateEditor({ saveAction, checkAction, clinicName, serverValidates, smsMaxSegments, canSave }: Props) {
  const [name, setName] = useState("");
  const [locale, setLocale] = useState("en");
  const [body, setBody] = useState("");
  const [channel, setChannel] = useState("default");
  const [kind, setKind] = useState("free_text");
  const variables = (TEMPLATE_USES.find((u) => u.kind === kind) ?? TEMPLATE_USES[0])?.variables ?? [];
  const [saved, save, saving] = useActionState(saveAction, null);
  const [checked, check, checking] = useActionState(checkAction, null);
  useSessionEndedAnswer(saved?.code);
  useSessionEndedAnswer(checked?.code);
  // The newer of the two answers, and only while it is about the text on screen.
  const answers = [saved, checked].filter((a): a is TemplateCheck => a !== null && a.body === body && a.channel === channel);
  const answer = answers.reduce<TemplateCheck | null>((newest, a) => (newest && newest.at >= a.at ? newest : a), null);
  const serverProblems = answer?.problems ?? [];
  // The dashboard's own rules are Compose's; automatic texts are checked by the service only.
  const liveProblems = !serverValidates && body && kind === "free_text" ? templateProblems(body, channel, smsMaxSegments) : [];
  const invalid = serverProblems.length > 0 || liveProblems.length > 0;
  const apiPreview = answer?.preview ?? null;
  // Compose's text is filled here as Compose fills it. An automatic kind's is rendered only by the
  // service (dates, medicines, {% if %}): before its check the preview showed the text with
  // {{ medicine_name }} and the rest unfilled, which no patient gets. So none until checked.
  const automatic = kind !== "free_text";
  const localPreview = automatic ? null : fillTemplate(body, { patient_name: "Ana García", clinic_name: clinicName });
  const preview = apiPreview ?? localPreview;
  const sms = preview === null
    ? null
    : apiPreview !== null && answer?.segments != null
      ? { segments: answer.segments, encoding: answer.encoding ?? "" }
      : smsCount(preview);
  const busy = saving || checking;
  return (
    // Submitted by hand, not through React's form actions: those reset the form afterwards, which
    // put the Used for, Language and Channel selects back to their first options on screen while
    // the state kept the clinician's choice, so a text checked (or refused) as Spanish SMS was
    // then saved as English for any channel.
    <form
      action={save}
      onSubmit={(event) => {
        event.preventDefault();
        const submitter = (event.nativeEvent as SubmitEvent).submitter;
        const data = new FormData(event.currentTarget);
        const run = submitter instanceof HTMLElement && submitter.dataset.action === "check" ? check : save;
        startTransition(() => run(data));
      }}
      className="grid-2"
    >
      <div>
        <div className="row">
          <div className="field">
            <label htmlFor="tpl-name">Name</label>
            <input
              id="tpl-name"
              name="name"
              required
              maxLength={100}
              value={name}
              onChange={(e) => setName(e.target.value)}
              aria-invalid={Boolean(answer?.fieldProblem)}
              aria-describedby="tpl-field-problem"
            />
          </div>
          <div className="field">
            <label htmlFor="tpl-kind">Used for</label>
            <select id="tpl-kind" name="kind" value={kind} onChange={(e) => setKind(e.target.value)}>
              {TEMPLATE_USES.map((u) => (
                <option key={u.kind} value={u.kind}>{u.kind === "free_text" ? u.label : `Automatic: ${u.label}`}</option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="tpl-locale">Language</label>
            <select id="tpl-locale" name="locale" value={locale} onChange={(e) => setLocale(e.target.value)}>
              <option value="en">English</option>
              <option value="es">Español</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="tpl-channel">Channel</label>
            <select id="tpl-channel" name="channel" value={channel} onChange={(e) => setChannel(e.target.value)}>
              <option value="default">Any channel</option>
              <option value="telegram">Telegram</option>
              <option value="whatsapp">WhatsApp</option>
              <option value="sms">SMS</option>
              <option value="email">E-mail</option>
            </select>
          </div>
        </div>
        <div id="tpl-field-problem" aria-live="polite">
          {answer?.fieldProblem ? <p className="error">{answer.fieldProblem}</p> : null}
        </div>
        <div className="field">
          <label htmlFor="tpl-body">Text</label>
          <textarea
            id="tpl-body"
            name="body"
            required
            value={body}
            onChange={(e) => setBody(e.target.value)}
            aria-describedby="tpl-hint tpl-problems"
            aria-invalid={invalid}
          />
          <p id="tpl-hint" className="hint">
            {kind === "free_text"
              ? <>May use {"{{ patient_name }}"} and {"{{ clinic_name }}"}; they are filled in when you compose.{" "}</>
              : <>Replaces MedRemind&apos;s own text for every automatic message of this kind to patients whose language is this one (on this channel, or any). May use {variables.join(", ")} (dates with |date and |time).{kind.startsWith("appointment_") ? <> For a patient whose clock shows another time than the clinic&apos;s, clinic_zone, your_time and your_day name the clinic&apos;s city and the patient&apos;s time and day (empty otherwise); a text that uses them shows starts_at at the clinic&apos;s time, e.g. {"{{ starts_at|time }}{% if clinic_zone %} {{ clinic_zone }} time ({{ your_time }} your time){% endif %}"}.</> : null} Patients in other languages, and any message this text cannot be sent as, get the built-in text.{" "}</>}
            {serverValidates
              ? "The MedRemind service checks the text when you check or save it, with the same rules the sending worker uses."
              : "Checked as you type with the dashboard's own rules (the MedRemind service is not configured here)."}
          </p>
        </div>
        <div id="tpl-problems" aria-live="polite">
          {liveProblems.length > 0 ? (
            <ul className="error" data-testid="template-problems">
              {liveProblems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          ) : null}
          {serverProblems.length > 0 ? (
            <div role="alert" data-testid="template-server-problems">
              <p className="error" style={{ marginBottom: 0 }}>
                {answer?.by === "python"
                  ? "Not saved: MedRemind's template check found a problem:"
                  : answer?.by === "unavailable"
                    ? "Not saved:"
                    : "Not saved: the dashboard allows only these placeholders and lengths:"}
              </p>
              <ul className="error">
                {serverProblems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            </div>
          ) : null}
          {answer && serverProblems.length === 0 && !answer.fieldProblem && answer === checked ? (
            <p role="status" className="notice" data-testid="template-checked">The text passed the checks.</p>
          ) : null}
        </div>
        <div className="row">
          {serverValidates ? (
            <button type="submit" formAction={check} data-action="check" className="secondary" disabled={busy || !body}>
              Check text
            </button>
          ) : null}
          {canSave ? (
            <button type="submit" disabled={busy || liveProblems.length > 0}>
              Save template
            </button>
          ) : null}
        </div>
        {canSave ? null : (
          <p className="notice" data-testid="template-readonly">
            Only an admin of the clinic can save or delete templates; you can check a text here.
          </p>
        )}
      </div>
      <section aria-labelledby="tpl-preview-h">
        <h3 id="tpl-preview-h" style={{ marginTop: 0 }}>Preview</h3>
        <pre className="message-text" style={{ background: "#eef3f8", padding: "0.75rem", borderRadius: 8, minHeight: "4rem", fontFamily: "inherit" }} data-testid="template-preview">
          {preview || (
            <span className="muted">
              {!automatic
                ? "The text appears here."
                : !serverValidates
                  ? "Texts for automatic messages are rendered by the MedRemind service, which is not configured here."
                  : body
                    ? "Press Check text to see it as a patient gets it, with the service's sample values."
                    : "The text appears here once checked, as a patient gets it, with sample values."}
            </span>
          )}
        </pre>
        {preview !== null && sms !== null ? (
          <p className="hint">
            {apiPreview !== null ? "As rendered by the MedRemind service with sample values · " : ""}
            {preview.length} characters · SMS: {sms.segments} segment{sms.segments === 1 ? "" : "s"} ({sms.encoding})
          </p>
        ) : null}
      </section>
    </form>
  );
}
