"use client";

import { useState } from "react";
import { fillTemplate, templateProblems } from "@/lib/placeholders";
import { smsCount } from "@/lib/sms";

interface Props {
  action: (formData: FormData) => Promise<void>;
  clinicName: string;
}

/** Create or replace a template, with its problems and a preview as the patient sees it. */
export function TemplateEditor({ action, clinicName }: Props) {
  const [body, setBody] = useState("");
  const [channel, setChannel] = useState("default");
  const problems = body ? templateProblems(body, channel) : [];
  const preview = fillTemplate(body, { patient_name: "Ana García", clinic_name: clinicName });
  const sms = smsCount(preview);
  return (
    <form action={action} className="grid-2">
      <div>
        <div className="row">
          <div className="field">
            <label htmlFor="tpl-name">Name</label>
            <input id="tpl-name" name="name" required maxLength={100} />
          </div>
          <div className="field">
            <label htmlFor="tpl-locale">Language</label>
            <select id="tpl-locale" name="locale" defaultValue="en">
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
        <div className="field">
          <label htmlFor="tpl-body">Text</label>
          <textarea
            id="tpl-body"
            name="body"
            required
            value={body}
            onChange={(e) => setBody(e.target.value)}
            aria-describedby="tpl-hint tpl-problems"
            aria-invalid={problems.length > 0}
          />
          <p id="tpl-hint" className="hint">
            May use {"{{ patient_name }}"} and {"{{ clinic_name }}"}; they are filled in when you compose.
          </p>
        </div>
        <div id="tpl-problems" aria-live="polite">
          {problems.length > 0 ? (
            <ul className="error" data-testid="template-problems">
              {problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          ) : null}
        </div>
        <button type="submit" disabled={problems.length > 0}>
          Save template
        </button>
      </div>
      <section aria-labelledby="tpl-preview-h">
        <h3 id="tpl-preview-h" style={{ marginTop: 0 }}>Preview</h3>
        <pre className="message-text" style={{ background: "#eef3f8", padding: "0.75rem", borderRadius: 8, minHeight: "4rem", fontFamily: "inherit" }} data-testid="template-preview">
          {preview || <span className="muted">The text appears here.</span>}
        </pre>
        <p className="hint">
          {preview.length} characters · SMS: {sms.segments} segment{sms.segments === 1 ? "" : "s"} ({sms.encoding})
        </p>
      </section>
    </form>
  );
}
