"use client";

import { type ReactNode, useRef, useState } from "react";

interface Props {
  action: (formData: FormData) => Promise<void>;
  /** The form's hidden fields (name -> value). */
  fields: Record<string, string>;
  /** The first button: its text, accessible name and class. */
  label: string;
  ariaLabel: string;
  className: string;
  /** The question, and the accessible name of the group that asks it. */
  question: ReactNode;
  questionLabel: string;
  /** A second line under the question, if any. */
  note?: ReactNode;
  confirmLabel: string;
  keepLabel: string;
  /** The confirming button's class (the first button's by default). */
  confirmClassName?: string;
  testId: string;
}

/**
 * An action done in two steps: the first button asks, the second does it; the other returns. For
 * what cannot be taken back (cancelling an appointment, sending a message before its time): one
 * misplaced click did it at once. Keyboard: Enter on the first button moves focus to the
 * question's first button, the keep button returns it.
 */
export function AskFirst(props: Props) {
  const [asking, setAsking] = useState(false);
  const ask = useRef<HTMLButtonElement>(null);
  const confirm = useRef<HTMLButtonElement>(null);
  if (!asking) {
    return (
      <button
        ref={ask}
        type="button"
        className={props.className}
        aria-label={props.ariaLabel}
        onClick={() => {
          setAsking(true);
          requestAnimationFrame(() => confirm.current?.focus());
        }}
      >
        {props.label}
      </button>
    );
  }
  return (
    <form action={props.action} role="group" aria-label={props.questionLabel} data-testid={props.testId}>
      {Object.entries(props.fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <p className="hint" style={{ marginTop: 0 }}>
        {props.question}
      </p>
      {props.note ? (
        <p className="hint" data-testid={`${props.testId}-note`}>
          {props.note}
        </p>
      ) : null}
      <div className="row">
        <button ref={confirm} type="submit" className={props.confirmClassName ?? props.className}>
          {props.confirmLabel}
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setAsking(false);
            requestAnimationFrame(() => ask.current?.focus());
          }}
        >
          {props.keepLabel}
        </button>
      </div>
    </form>
  );
}
