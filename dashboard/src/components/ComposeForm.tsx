"use client";

import { useState } from "react";
import { fillTemplate } from "@/lib/placeholders";
import { CHANNEL_LIMITS, smsCount } from "@/lib/sms";

interface Props {
  action: (formData: FormData) => Promise<void>;
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
  patients,
  defaultPatient,
  timezone,
  defaultLocalTime,
  clinicName,
  templates,
}: Props) {
  const [text, setText] = useState("");
  const [patientId, setPatientId] = useState(defaultPatient);
  const [platform, setPlatform] = useState("auto");
  const [when, setWhen] = useState<"now" | "later">("now");
  const sms = smsCount(text);
  const channels = platform === "auto" ? ["telegram", "whatsapp", "sms", "email"] : [platform];
  return (
    <form action={action} className="grid-2">
      <div className="panel">
        <div className="field">
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
                setText(fillTemplate(chosen.body, { patient_name: patient?.display_name ?? "", clinic_name: clinicName }));
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
        <button type="submit">{when === "now" ? "Send now" : "Schedule"}</button>
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
