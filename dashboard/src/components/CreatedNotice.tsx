"use client";

import { useEffect, useState } from "react";

interface Props {
  /** What was just created (the `created` query parameter), or null. */
  id: string | null;
  /** The confirmation to show for it. */
  message: string | null;
  testId: string;
}

/**
 * A confirmation after a redirect (`?created=<id>`), announced to screen readers and shown once.
 *
 * The live region (role=status) is always on the page, empty until there is something to say:
 * a screen reader announces text that appears in a region it already knows, not reliably a region
 * that arrives with its text. The notice then does not outstay what it confirms:
 * - the parameter is taken off the address at once, so reloading the page, or coming back to it,
 *   does not confirm the same appointment again;
 * - any further submission on the page (another appointment, one refused, a move, a
 *   cancellation) removes it, so it never stands beside that action's own answer.
 */
export function CreatedNotice({ id, message, testId }: Props) {
  const [dismissed, setDismissed] = useState<string | null>(null);
  const shown = id !== null && message !== null && dismissed !== id;

  useEffect(() => {
    if (id === null) return;
    const url = new URL(window.location.href);
    if (url.searchParams.has("created")) {
      url.searchParams.delete("created");
      // null, as Next.js documents: its router then keeps the new address as its own.
      window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    }
    const dismiss = () => setDismissed(id);
    document.addEventListener("submit", dismiss, true);
    return () => document.removeEventListener("submit", dismiss, true);
  }, [id]);

  return (
    <div role="status" aria-live="polite" aria-atomic="true">
      {shown ? (
        <p className="notice" data-testid={testId}>
          {message}
        </p>
      ) : null}
    </div>
  );
}
