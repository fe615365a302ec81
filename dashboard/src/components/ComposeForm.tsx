"use client";

import { useState, useTransition } from "react";
import { fillTemplate } from "@/lib/placeholders";
import { CHANNEL_LIMITS, smsCount } from "@/lib/sms";

interface Props {
  action: (formData: FormData) => Promise<void>;
  countGroup: (search: string) => Promise<number>;
  patients: { id: string; display_name: string | null }[];
  defaultPatient: string;
  timezone: string;
  defaultLocalTime: string;
  clinicName: string;
  templates: { id: string; name: string; locale: string; channel: string; body: string }[];
}

/** Compose a free-text message with a live per-channel preview (length, SMS segments). */
export function ComposeForm({
  action,
  countGroup,
  patients,
  defaultPatient,
  timezone,
  defaultLocalTime,
  clinicName,
  templates,
}: Props) {
  const [text, setText] = useState("");
  const [patientId, setPatientId] = useState(defaultPatient);
  const [audience, setAudience] = useState<"one" | "group">("one");
  const [groupQuery, setGroupQuery] = useState("");
  const [groupCount, setGroupCount] = useState<{ query: string; n: number } | null>(null);
  const [counting, startCounting] = useTransition();
  const [platform, setPlatform] = useState("auto");
  const [when, setWhen] = useState<"now" | "later">("now");
  const sms = smsCount(text);
  const channels = platform === "auto" ? ["telegram", "whatsapp", "sms", "email"] : [platform];
  return (
    <form action={action} className="grid-2">
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
              <select id="patient_id" name="patient_id" value={patientId} onChange={(e) => setPatientId(e.target.value)} required>
                <option value="" disabled>
                  Choose a patient
                </option>
                {patients.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.display_name ?? p.id}
                  </option>
                ))}
              </select>
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
                    aria-describedby="group-hint group-count"
                  />
                </div>
                <div className="field">
                  <button
                    type="button"
                    className="secondary"
                    disabled={counting}
                    onClick={() => startCounting(async () => setGroupCount({ query: groupQuery, n: await countGroup(groupQuery) }))}
                  >
                    Count recipients
                  </button>
                </div>
              </div>
              <p id="group-hint" className="hint">Empty means every active patient who consented.</p>
              <p id="group-count" aria-live="polite" data-testid="group-count">
                {groupCount && groupCount.query === groupQuery
                  ? `${groupCount.n} patient${groupCount.n === 1 ? "" : "s"} will receive it.`
                  : ""}
              </p>
            </div>
          )}
        </fieldset>
        <div className="field">
          <label htmlFor="platform">Channel</label>
          <select id="platform" name="platform" value={platform} onChange={(e) => setPlatform(e.target.value)}>
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
              <input id="local_time" name="local_time" type="datetime-local" defaultValue={defaultLocalTime} required />
            </div>
          ) : null}
        </fieldset>
        <div className="field">
          <label className="radio">
            <input type="checkbox" name="urgent" aria-describedby="urgent-hint" />
            Urgent
          </label>
          <p id="urgent-hint" className="hint">
            Urgent messages go out during the patient&apos;s quiet hours; others wait until the quiet hours end.
          </p>
        </div>
        {templates.length > 0 ? (
          <div className="field">
            <label htmlFor="template">Start from a template</label>
            <select
              id="template"
              defaultValue=""
              onChange={(e) => {
                const chosen = templates.find((t) => t.id === e.target.value);
                if (!chosen) return;
                const patient = patients.find((p) => p.id === patientId);
                // For a group, {{ patient_name }} stays and is filled in per patient when scheduled.
                setText(
                  fillTemplate(
                    chosen.body,
                    audience === "one" ? { patient_name: patient?.display_name ?? "", clinic_name: clinicName } : { clinic_name: clinicName },
                  ),
                );
              }}
            >
              <option value="">Free text</option>
              {templates.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name} ({t.locale}, {t.channel === "default" ? "any channel" : t.channel})
                </option>
              ))}
            </select>
            <p className="hint">Fills in the patient&apos;s and the clinic&apos;s names; you can still edit the text.</p>
          </div>
        ) : null}
        <div className="field">
          <label htmlFor="message_content">Message</label>
          <textarea
            id="message_content"
            name="message_content"
            required
            maxLength={4096}
            value={text}
            onChange={(e) => setText(e.target.value)}
            aria-describedby="message-count"
          />
          <p id="message-count" className="hint" aria-live="polite">
            {text.length} characters · SMS: {sms.segments} segment{sms.segments === 1 ? "" : "s"} ({sms.encoding})
          </p>
        </div>
        <button type="submit">
          {when === "now" ? "Send now" : "Schedule"}
          {audience === "group" ? " to the group" : ""}
        </button>
      </div>
      <section className="panel" aria-labelledby="preview-h">
        <h2 id="preview-h">Preview</h2>
        <pre className="message-text" style={{ background: "#eef3f8", padding: "0.75rem", borderRadius: 8, minHeight: "4rem", fontFamily: "inherit" }}>
          {text || <span className="muted">The message appears here.</span>}
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
                    <td>{text.length} characters</td>
                    <td>{text.length <= (CHANNEL_LIMITS[c] ?? 4096) ? "yes" : `no (max ${CHANNEL_LIMITS[c]})`}</td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </form>
  );
}
