"use client";

import { type ReactNode, useEffect, useRef, useState } from "react";

interface Props {
  /** What the children show, as a string: a new one is new data (the page's auto-refresh). */
  version: string;
  /** Changes with each of this form's own saves (a redirect's `at`): always shown fresh. */
  savedAt?: string;
  children: ReactNode;
}

/**
 * A form that says what it showed (hidden "shown" values the action compares with the database)
 * must keep showing and saying the same thing while the clinician edits it. The page refreshes
 * itself every few seconds (AutoRefresh): controlled hidden inputs took the new values while the
 * selects kept the old ones on screen, so a Save wrote those old values back over a colleague's
 * change as if the clinician had chosen them. Here the children are the ones of the last mount:
 * new data mounts them afresh only while the clinician has changed nothing (then what is on
 * screen is what is stored), and each own save (`savedAt`) does; mid-edit, the form keeps what it
 * showed and its action refuses a change of something changed since, saying so.
 */
export function FreshUnlessEdited({ version, savedAt, children }: Props) {
  const [shown, setShown] = useState({ version, savedAt, children, mount: 0 });
  const edited = useRef(false);
  useEffect(() => {
    const ownSave = savedAt !== shown.savedAt;
    if (ownSave || (version !== shown.version && !edited.current)) {
      edited.current = false;
      setShown((s) => ({ version, savedAt, children, mount: s.mount + 1 }));
    }
  }, [version, savedAt, children, shown.version, shown.savedAt]);
  return (
    <div
      key={shown.mount}
      onChangeCapture={() => {
        edited.current = true;
      }}
    >
      {shown.children}
    </div>
  );
}
