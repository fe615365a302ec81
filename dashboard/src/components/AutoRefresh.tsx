"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { announceSessionEnded, sessionAlive } from "@/lib/session-signal";

/**
 * Re-render the page's server components every `intervalMs` while the tab is visible, so
 * statuses change without a reload (React keeps form state and focus). Only while the session
 * lasts: a refresh after it ended was redirected to the sign-in page, and what the clinician was
 * typing on this page was lost; the page's SessionGuard asks for the password instead.
 */
export function AutoRefresh({ intervalMs = 3000 }: { intervalMs?: number }) {
  const router = useRouter();
  useEffect(() => {
    const timer = setInterval(async () => {
      if (document.visibilityState !== "visible") return;
      if (await sessionAlive()) router.refresh();
      else announceSessionEnded();
    }, intervalMs);
    return () => clearInterval(timer);
  }, [router, intervalMs]);
  return null;
}
