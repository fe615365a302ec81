"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/patients", label: "Patients" },
  { href: "/messages", label: "Scheduled messages" },
  { href: "/messages/new", label: "Compose" },
  { href: "/appointments", label: "Appointments" },
  { href: "/templates", label: "Templates" },
  { href: "/waitlist", label: "Waitlist" },
  { href: "/statistics", label: "Statistics" },
  { href: "/settings", label: "Settings" },
] as const;

/** The link of the section a path belongs to: the longest matching prefix (Compose, not Messages). */
function currentHref(path: string): string | null {
  const matching = LINKS.filter((l) => path === l.href || path.startsWith(`${l.href}/`));
  return matching.sort((a, b) => b.href.length - a.href.length)[0]?.href ?? null;
}

/** The main navigation; the current section is marked (aria-current, and underlined). */
export function NavLinks({ className }: { className?: string }) {
  const current = currentHref(usePathname());
  return (
    <ul className={className}>
      {LINKS.map((l) => (
        <li key={l.href}>
          <Link href={l.href} aria-current={l.href === current ? "page" : undefined}>
            {l.label}
          </Link>
        </li>
      ))}
    </ul>
  );
}
