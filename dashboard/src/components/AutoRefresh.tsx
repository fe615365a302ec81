"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

/**
 * Re-render the page's server components every `intervalMs` while the tab is visible, so
 * statuses change without a reload (React keeps form state and focus).
 */
export function AutoRefresh({ intervalMs = 3000 }: { intervalMs?: number }) {
  const router = useRouter();
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") router.refresh();
    }, intervalMs);
    return () => clearInterval(timer);
  }, [router, intervalMs]);
  return null;
}
