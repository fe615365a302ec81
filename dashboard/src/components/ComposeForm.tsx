"use client";

import { GroupReport } from "@/components/GroupReport";
import { PatientOptions, PickerLimitHint } from "@/components/PatientOptions";
import type { LabelFields } from "@/lib/patient-label";
import { useActionState, useState, useTransition } from "react";
import { announceSessionEnded, useSessionEndedAnswer } from "@/lib/session-signal";
import type { ComposeState } from "@/app/(app)/messages/actions";
import {
  ANY_CHANNEL,
  type GroupCountFields,
  type TemplateVersion,
  groupCountText,
  groupSendLabel,
  pickVersion,
  templateChannelProblem,
  templateChoices,
} from "@/lib/compose";
import { fillForPatient, fillTemplate, templateMarkup, unknownPlaceholders } from "@/lib/placeholders";
import { CHANNEL_LIMITS, messageTooLong, smsCount } from "@/lib/sms";
import { TEMPLATE_ERRORS, errorMessage } from "@/lib/errors";
import { patientTimeNote, wallTimeInstant } from "@/lib/time";

/** The server's refusals of the message's text (lib/errors.ts), which mark the Message field. */
const MESSAGE_ERRORS: readonly string[] = [
  "placeholder",
  "markup",
  "message_invisible",
  "direction_message",
  "too_long",
  "message_too_long",
];

interface Props {
  /** Inserts the message(s) and redirects; a refusal comes back as an error code. */
  action: (previous: ComposeState, formData: FormData) => Promise<ComposeState>;
  countGroup: (search: string, platform: string, localTime: string | null) => Promise<GroupCountFields | null>;
  patients: (LabelFields & { locale: string; timezone: string })[];
  /** How many patients the clinic has (more than `patients` past the picker's limit). */
  patientTotal: number;
  defaultPatient: string;
  defaultAudience: "one" | "group";
  defaultSource: "free" | "template";
  defaultTemplate: string;
  timezone: string;
  defaultLocalTime: string;
  clinicName: string;
  /** The clinic's default language: the template version previewed for a group. */
  clinicLocale: string;
  /** Every version of the clinic's free-text templates. */
  templates: TemplateVersion[];
}

/**
 * Compose free text, or pick one of the clinic's templates (the worker renders it per patient),
 * with a live per-channel preview (length, SMS segments). Every field is controlled and the form
 * is not reset after a refused send, so it keeps what the clinician wrote and chose.
 */
export function ComposeForm({
  action,
  countGroup,
  patients,
  patientTotal,
  defaultPatient,
  defaultAudience,
  defaultSource,
  defaultTemplate,
  timezone,
  defaultLocalTime,
  clinicName,
  clinicLocale,
  templates,
}: Props) {
  const [state, formAction, sending] = useActionState(action, {});
  useSessionEndedAnswer(state.error);
  const [, startSending] = useTransition();
  const error = errorMessage(state.error, state.refusalMinutes, state.capReason);
  const templateErrorId = state.error && TEMPLATE_ERRORS.includes(state.error) ? "compose-error" : null;
  const [text, setText] = useState("");
  const [localTime, setLocalTime] = useState(defaultLocalTime);
  const [urgent, setUrgent] = useState(false);
  const [patientId, setPatientId] = useState(defaultPatient);
  const [audience, setAudience] = useState<"one" | "group">(defaultAudience);
  const [source, setSource] = useState<"free" | "template">(defaultSource);
  const choices = templateChoices(templates, clinicLocale);
  const [templateName, setTemplateName] = useState(defaultTemplate || (choices[0]?.name ?? ""));
  const [groupQuery, setGroupQuery] = useState("");
  const [groupCount, setGroupCount] = useState<{ query: string; platform: string; at: string | null; n: GroupCountFields } | null>(null);
  const [counting, startCounting] = useTransition();
  const [platform, setPlatform] = useState("auto");
  const [when, setWhen] = useState<"now" | "later">("now");
  // The count the clinician sees for this search and channel: sent with the form, which the
  // server refuses for a group without it or when the group has changed since. Who is inside
  // their quiet hours depends on the time too: that number holds for the time it was counted at
  // (an urgent message is refused without it, and the sentence asks for a new count).
  const dueAt = when === "later" ? localTime : null;
  const counted = groupCount && groupCount.query === groupQuery && groupCount.platform === platform ? groupCount.n : null;
  const nightCounted = counted !== null && groupCount?.at === dueAt;
  const groupError = state.error === "group_uncounted" || state.error === "group_changed" || state.error === "group_night_changed";
  const channels = platform === "auto" ? ["telegram", "whatsapp", "sms", "email"] : [platform];
  const patient = patients.find((p) => p.id === patientId);
  // Template mode: the version this patient (or, for a group, the clinic's language) would get on
  // the chosen channel, as the worker picks it; the worker fills in the names when it sends.
  const choice = choices.find((c) => c.name === templateName) ?? null;
  const versions = templates.filter((t) => t.name === templateName);
  const previewLocale = audience === "one" && patient ? patient.locale : clinicLocale;
  // The patient's own clock at the time typed in the clinic's, when it shows another: a clinic in
  // New York writing "20:00" to a patient in Madrid reaches them at 02:00 (inside their quiet hours).
  const typedInstant = when === "later" && audience === "one" && patient ? wallTimeInstant(localTime, timezone) : null;
  const patientTime = typedInstant && patient ? patientTimeNote(typedInstant, timezone, patient.timezone) : null;
  const version = choice ? (pickVersion(versions, previewLocale, platform === "auto" ? ANY_CHANNEL : platform) ?? choice.preview) : null;
  const channelProblem = choice ? templateChannelProblem(versions, platform) : null;
  // Free text is shown as the patient receives it: one patient's names filled in (as the server
  // action fills them); for a group the clinic's, and {{ patient_name }} stays, filled per patient.
  const unknown = source === "free" ? unknownPlaceholders(text) : [];
  // Other markup ({% if %}, WhatsApp's {{1}}) would reach the patient as typed: the server refuses it.
  const markup = source === "free" && unknown.length === 0 ? templateMarkup(text) : null;
  // Said as it is typed or pasted; the server refuses it too (no maxLength: that cut a pasted
  // text at the limit silently, and the cut text was sent).
  const overLong = source === "free" ? messageTooLong(text) : null;
  // The server's refusal of the text itself marks the Message field.
  const messageRefused = state.error !== undefined && MESSAGE_ERRORS.includes(state.error);
  const messageDescribedBy = [
    "message-count",
    unknown.length > 0 ? "message-placeholders" : null,
    markup !== null ? "message-markup" : null,
    overLong !== null ? "message-too-long" : null,
    messageRefused ? "compose-error" : null,
  ].filter(Boolean).join(" ");
  const shown =
    source === "free"
      ? audience === "one" && patient
        ? fillForPatient(text, patient.display_name, clinicName)
        : fillTemplate(text, { clinic_name: clinicName })
      : version
        ? fillTemplate(version.body, {
            ...(audience === "one" && patient?.display_name ? { patient_name: patient.display_name } : {}),
            clinic_name: clinicName,
          })
        : "";
  const sms = smsCount(shown);
  const templateDescribedBy = ["template-hint", channelProblem ? "template-channel-problem" : "", templateErrorId ?? ""]
    .filter(Boolean)
    .join(" ");
  // A group message that left patients out, or reaches some only if they come back: say so
  // instead of the form (sending again would message the others twice).
  if (state.group) return <GroupReport report={state.group} />;
  return (
    <>
      {error ? (
        <p role="alert" className="alert" id="compose-error" data-testid="compose-error">
          {error}
        </p>
      ) : null}
      {/* Submitted by hand, not through React's form action: that resets the form afterwards,
          which would put the selects and the checkbox back to their first values while the
          state (and the preview) still held the clinician's choice. */}
      <form
        action={formAction}
        onSubmit={(event) => {
          event.preventDefault();
          const data = new FormData(event.currentTarget);
          startSending(() => formAction(data));
        }}
        className="grid-2"
      >
        <div className="panel">
          <fieldset>
            <legend>Recipients</legend>
            <input type="hidden" name="audience" value={audience} />
            <label className="radio">
              <input type="radio" name="audience_choice" checked={audience === "one"} onChange={() => setAudience("one")} />
              One patient
            </label>
            <label className="radio">
              <input type="radio" name="audience_choice" checked={audience === "group"} onChange={() => setAudience("group")} />
              A group of patients
            </label>
            {audience === "one" ? (
              <div className="field" style={{ marginTop: "0.5rem" }}>
                <label htmlFor="patient_id">Patient</label>
                <select
                  id="patient_id"
                  name="patient_id"
                  value={patientId}
                  onChange={(e) => setPatientId(e.target.value)}
                  required
                  {...(state.error === "not_consented" || state.error === "patient_not_found"
                    ? { "aria-invalid": true, "aria-describedby": "compose-error" }
                    : {})}
                >
                  <PatientOptions patients={patients} />
                </select>
                <PickerLimitHint listed={patients.length} total={patientTotal} button="Compose message" />
              </div>
            ) : (
              <div style={{ marginTop: "0.5rem" }}>
                <div className="row">
                  <div className="field">
                    <label htmlFor="group_query">Name, external id or address contains</label>
                    <input
                      id="group_query"
                      name="group_query"
                      value={groupQuery}
                      maxLength={100}
                      onChange={(e) => setGroupQuery(e.target.value)}
                      aria-describedby={groupError ? "compose-error group-hint group-count" : "group-hint group-count"}
                      aria-invalid={groupError ? true : undefined}
                    />
                    <input type="hidden" name="group_confirmed" value={counted ? String(counted.total) : ""} />
                    <input type="hidden" name="group_confirmed_night" value={counted && nightCounted ? String(counted.night ?? 0) : ""} />
                  </div>
                  <div className="field">
                    <button
                      type="button"
                      className="secondary"
                      disabled={counting}
                      onClick={() =>
                        startCounting(async () => {
                          const n = await countGroup(groupQuery, platform, dueAt);
                          // Null: the session has ended (the page asks for the password).
                          if (n === null) announceSessionEnded();
                          else setGroupCount({ query: groupQuery, platform, at: dueAt, n });
                        })
                      }
                    >
                      Count recipients
                    </button>
                  </div>
                </div>
                <p id="group-hint" className="hint">Empty means every patient; invited ones who have not consented yet get nothing and are named. Count the recipients before you send: the message goes only as counted.</p>
                <p id="group-count" aria-live="polite" data-testid="group-count">
                  {counted ? groupCountText(counted, urgent, nightCounted) : ""}
                </p>
              </div>
            )}
          </fieldset>
          <div className="field">
            <label htmlFor="platform">Channel</label>
            <select
              id="platform"
              name="platform"
              value={platform}
              onChange={(e) => setPlatform(e.target.value)}
              {...(state.error === "unreachable" ? { "aria-invalid": true, "aria-describedby": "compose-error" } : {})}
            >
              <option value="auto">Patient&apos;s preference (auto)</option>
              <option value="telegram">Telegram</option>
              <option value="whatsapp">WhatsApp</option>
              <option value="sms">SMS</option>
              <option value="email">E-mail</option>
            </select>
          </div>
          <fieldset>
            <legend>When</legend>
            <label className="radio">
              <input type="radio" name="when" value="now" checked={when === "now"} onChange={() => setWhen("now")} />
              Now
            </label>
            <label className="radio">
              <input type="radio" name="when" value="later" checked={when === "later"} onChange={() => setWhen("later")} />
              At a time ({timezone})
            </label>
            {when === "later" ? (
              <div className="field" style={{ marginTop: "0.5rem" }}>
                <label htmlFor="local_time">Date and time in {timezone}</label>
                <input
                  id="local_time"
                  name="local_time"
                  type="datetime-local"
                  value={localTime}
                  onChange={(e) => setLocalTime(e.target.value)}
                  required
                  {...(state.error === "send_time" || state.error === "send_time_skipped" || state.error === "send_time_past"
                    ? { "aria-invalid": true, "aria-describedby": "compose-error" }
                    : {})}
                />
                {patientTime ? (
                  <p className="hint" data-testid="compose-patient-time">
                    The {patientTime}.
                  </p>
                ) : null}
              </div>
            ) : null}
          </fieldset>
          <div className="field">
            <label className="radio">
              <input
                type="checkbox"
                name="urgent"
                checked={urgent}
                onChange={(e) => setUrgent(e.target.checked)}
                aria-describedby="urgent-hint"
              />
              Urgent
            </label>
            <p id="urgent-hint" className="hint">
              Urgent messages go out during the patient&apos;s quiet hours; others wait until the quiet hours end.
            </p>
          </div>
          <fieldset>
            <legend>Content</legend>
            <input type="hidden" name="source" value={source} />
            <label className="radio">
              <input type="radio" name="source_choice" checked={source === "free"} onChange={() => setSource("free")} />
              Free text
            </label>
            <label className="radio">
              <input
                type="radio"
                name="source_choice"
                checked={source === "template"}
                disabled={choices.length === 0}
                onChange={() => setSource("template")}
                aria-describedby={choices.length === 0 ? "no-templates" : undefined}
              />
              Use a template
            </label>
            {choices.length === 0 ? (
              <p id="no-templates" className="hint">Your clinic has no templates yet: save one on the Templates page.</p>
            ) : null}
            {source === "template" ? (
              <div className="field" style={{ marginTop: "0.5rem" }}>
                <label htmlFor="template_name">Template</label>
                <select
                  id="template_name"
                  name="template_name"
                  value={templateName}
                  onChange={(e) => setTemplateName(e.target.value)}
                  required
                  aria-invalid={templateErrorId !== null || channelProblem !== null ? true : undefined}
                  aria-describedby={templateDescribedBy}
                >
                  {choices.map((c) => (
                    <option key={c.name} value={c.name}>
                      {c.name}
                    </option>
                  ))}
                </select>
                <p id="template-hint" className="hint" data-testid="template-versions">
                  {choice ? `Versions: ${choice.versions.map((v) => v.replace(`/${ANY_CHANNEL}`, " (any channel)")).join(", ")}. ` : ""}
                  Each patient receives the version in their language for the channel it goes out on, with their
                  name and the clinic&apos;s filled in when it is sent.
                </p>
                {channelProblem ? (
                  <p id="template-channel-problem" className="error" role="alert">
                    {channelProblem}
                  </p>
                ) : null}
              </div>
            ) : (
              <div className="field" style={{ marginTop: "0.5rem" }}>
                <label htmlFor="message_content">Message</label>
                <textarea
                  id="message_content"
                  name="message_content"
                  required
                  value={text}
                  onChange={(e) => setText(e.target.value)}
                  aria-describedby={messageDescribedBy}
                  aria-invalid={unknown.length > 0 || markup !== null || overLong !== null || messageRefused ? true : undefined}
                />
                <p id="message-count" className="hint" aria-live="polite">
                  {shown.length} characters as sent · SMS: {sms.segments} segment{sms.segments === 1 ? "" : "s"} ({sms.encoding})
                  {audience === "group"
                    ? " · {{ patient_name }} is filled in per patient, {{ clinic_name }} with your clinic's name"
                    : " · {{ patient_name }} and {{ clinic_name }} are filled in"}
                </p>
                {unknown.length > 0 ? (
                  <p id="message-placeholders" className="error" role="alert" data-testid="placeholder-warning">
                    Not filled in: {unknown.map((n) => `{{ ${n} }}`).join(", ")}. Only {"{{ patient_name }}"} and{" "}
                    {"{{ clinic_name }}"} are.
                  </p>
                ) : null}
                {overLong !== null ? (
                  <p id="message-too-long" className="error" role="alert" data-testid="too-long-warning">
                    {overLong}
                  </p>
                ) : null}
                {markup !== null ? (
                  <p id="message-markup" className="error" role="alert" data-testid="markup-warning">
                    Sent as typed: {markup}. Write the words themselves, or save a template and send that.
                  </p>
                ) : null}
              </div>
            )}
          </fieldset>
          {/* Disabled while sending: a second click would insert the message twice. */}
          <button type="submit" disabled={sending}>
            {audience === "group" ? groupSendLabel(when, counted ? counted.total : null) : when === "now" ? "Send now" : "Schedule"}
          </button>
        </div>
        <section className="panel" aria-labelledby="preview-h">
          <h2 id="preview-h">Preview</h2>
          {source === "template" && version ? (
            <p className="hint" data-testid="template-preview-version">
              {version.name}: the {version.locale} version for{" "}
              {version.channel === ANY_CHANNEL ? "any channel" : version.channel}
              {audience === "one" && patient ? ` (${patient.display_name ?? "this patient"}'s language: ${patient.locale})` : " (the clinic's language)"}
              {audience === "group" ? "; {{ patient_name }} becomes each patient's name" : ""}.
            </p>
          ) : null}
          <pre
            className="message-text"
            data-testid="compose-preview"
            style={{ background: "#eef3f8", padding: "0.75rem", borderRadius: 8, minHeight: "4rem", fontFamily: "inherit" }}
          >
            {shown || <span className="muted">The message appears here.</span>}
          </pre>
          <table>
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Length</th>
                <th scope="col">Fits</th>
              </tr>
            </thead>
            <tbody>
              {channels.map((c) => (
                <tr key={c}>
                  <td>{c}</td>
                  {c === "sms" ? (
                    <>
                      <td data-testid="sms-count">
                        {sms.units} {sms.encoding === "GSM-7" ? "GSM characters" : "UCS-2 units"}
                      </td>
                      <td data-testid="sms-segments">
                        {sms.segments} segment{sms.segments === 1 ? "" : "s"}
                      </td>
                    </>
                  ) : (
                    <>
                      <td>{shown.length} characters</td>
                      <td>{shown.length <= (CHANNEL_LIMITS[c] ?? 4096) ? "yes" : `no (max ${CHANNEL_LIMITS[c]})`}</td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </form>
    </>
  );
}
