"use client";

import { useActionState } from "react";
import { useSessionEndedAnswer } from "@/lib/session-signal";
import type { FormState } from "@/lib/form-state";
import {
  EARLY_KINDS,
  EARLY_MAX_MINUTES,
  FREE_RATE,
  PAID_AFTER_MAX_SECONDS,
  PAID_RATE,
  STARS_PER_PAID_MESSAGE,
  earlyField,
  earlyMinutes,
  earlySummary,
  paidSummary,
  capacityProblem,
  starsFor,
  type EarlyKind,
} from "@/lib/capacity";

/**
 * The settings page's section for the 08:00 peak: the early send window per message kind and
 * Telegram paid broadcast. Everyone sees what is set; only an admin gets the form (the database
 * refuses a change by anyone else, migration 20260101009610). A refusal names the field and keeps
 * everything chosen (it reloaded the saved values before, losing what the clinician typed); the
 * radios and inputs are keyed by what came back, since React applies defaults only on mount.
 */
export function PeakSettings({
  earlySendSeconds,
  paidAfterSeconds,
  isAdmin,
  action,
  saved,
}: {
  earlySendSeconds: Record<string, unknown>;
  paidAfterSeconds: number | null;
  isAdmin: boolean;
  action: (previous: FormState, form: FormData) => Promise<FormState>;
  saved: boolean;
}) {
  const [state, formAction, pending] = useActionState(action, {});
  useSessionEndedAnswer(state.error);
  const problem = capacityProblem(state.error ?? null);
  const typed = state.values;
  // What the form shows: as sent back after a refusal, else as saved.
  const paidMode = typed ? typed.paid_mode : paidAfterSeconds === null ? "off" : "after";
  const paidAfter = typed ? typed.paid_after_seconds : String(paidAfterSeconds ?? 60);
  const invalid = (field: string) => (problem && state.field === field ? true : undefined);
  // The refused field is described by the error too (read out with it).
  const describedBy = (field: string, hint?: string) =>
    [hint, invalid(field) ? "capacity-error" : undefined].filter(Boolean).join(" ") || undefined;
  return (
    <section id="capacity" className="panel" style={{ maxWidth: 640, marginTop: "1.5rem" }} aria-labelledby="capacity-title">
      <h2 id="capacity-title">Morning peak (08:00)</h2>
      <p className="muted">
        When many patients share a reminder time, a Telegram bot sends at most {FREE_RATE} messages a second, so the
        last of 10,000 reminders due at once leaves about 6 minutes late. Time-critical medicines (marked on the patient&apos;s page)
        always go first.
      </p>
      <dl className="summary" data-testid="capacity-summary">
        <dt>Early send window</dt>
        <dd data-testid="capacity-early">{earlySummary(earlySendSeconds)}</dd>
        <dt>Paid broadcast</dt>
        <dd data-testid="capacity-paid">{paidSummary(paidAfterSeconds)}</dd>
      </dl>
      {problem ? (
        <p role="alert" className="alert" id="capacity-error" data-testid="capacity-error">
          {problem}
        </p>
      ) : null}
      {saved && !state.error ? (
        <p role="status" className="notice" data-testid="capacity-saved">
          Peak settings saved: the planner uses them from its next tick.
        </p>
      ) : null}
      {!isAdmin ? (
        <p className="hint" data-testid="capacity-readonly">Only an admin of the clinic can change these.</p>
      ) : (
        <form action={formAction} data-testid="capacity-form" key={JSON.stringify(typed ?? null)}>
          <h3>Early send window</h3>
          {(Object.keys(EARLY_KINDS) as EarlyKind[]).map((kind) => {
            const id = earlyField(kind);
            return (
              <div className="field" key={kind}>
                <label htmlFor={id}>{EARLY_KINDS[kind]}: minutes early at most</label>
                <input
                  id={id}
                  name={id}
                  type="number"
                  min={0}
                  max={EARLY_MAX_MINUTES}
                  step={1}
                  inputMode="numeric"
                  defaultValue={typed ? typed[id] : earlyMinutes(earlySendSeconds, kind)}
                  aria-invalid={invalid(id)}
                  aria-describedby={describedBy(id, `${id}-hint`)}
                />
                <p id={`${id}-hint`} className="hint">
                  0 to {EARLY_MAX_MINUTES}; 0: never early. Used only when more reminders fall due at one time than the
                  bots can send in a minute: routine reminders are then spread over up to this many minutes before their
                  time (never a time-critical dose, never into the patient&apos;s quiet hours). The text still names the
                  dose&apos;s own time.
                </p>
              </div>
            );
          })}
          <h3>Telegram paid broadcast</h3>
          <fieldset className="plain" aria-describedby="paid-hint">
            <legend className="sr-only">Paid broadcast</legend>
            <label className="radio">
              <input type="radio" name="paid_mode" value="off" defaultChecked={paidMode === "off"} aria-invalid={invalid("paid_mode")} />
              Off (no cost)
            </label>
            <label className="radio">
              <input type="radio" name="paid_mode" value="after" defaultChecked={paidMode === "after"} aria-invalid={invalid("paid_mode")} />
              On for messages that are late by at least
            </label>
            <div className="field">
              <label htmlFor="paid_after_seconds">Seconds late</label>
              <input
                id="paid_after_seconds"
                name="paid_after_seconds"
                type="number"
                min={0}
                max={PAID_AFTER_MAX_SECONDS}
                step={1}
                inputMode="numeric"
                defaultValue={paidAfter}
                aria-invalid={invalid("paid_after_seconds")}
                aria-describedby={describedBy("paid_after_seconds")}
              />
            </div>
          </fieldset>
          <p id="paid-hint" className="hint">
            Telegram lets a bot send up to {PAID_RATE.toLocaleString("en")} messages a second instead of {FREE_RATE} for{" "}
            {STARS_PER_PAID_MESSAGE} Telegram Stars per message, taken from the bot&apos;s Stars balance: 1,000 paid
            messages cost {starsFor(1000)} Stars, a peak of 10,000 late reminders {starsFor(10000).toLocaleString("en")}{" "}
            Stars. Only messages at least this late (by the dose&apos;s time) pay; 0 pays for every message. Replies to
            patients never pay.
          </p>
          <button type="submit" disabled={pending}>
            Save peak settings
          </button>
        </form>
      )}
    </section>
  );
}
