"use client";

import { usePathname } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import styles from "./nav.module.css";

/**
 * The header's navigation and account block. On a wide screen they are laid out in the header as
 * they are; on a phone they fold behind a Menu button (aria-expanded), so the header takes one
 * line instead of a quarter of the screen (it was 230-280 px tall at 360 px wide). The menu
 * closes when a page is chosen, and on Escape (focus back on the button).
 */
export function MainMenu({ children }: { children: React.ReactNode }) {
  const [open, setOpen] = useState(false);
  const path = usePathname();
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => setOpen(false), [path]);
  return (
    <>
      <button
        ref={button}
        type="button"
        className={styles.toggle}
        aria-expanded={open}
        aria-controls="main-menu"
        onClick={() => setOpen(!open)}
      >
        Menu
      </button>
      <div
        id="main-menu"
        className={open ? `${styles.menu} ${styles.open}` : styles.menu}
        onKeyDown={(event) => {
          if (event.key === "Escape" && open) {
            setOpen(false);
            button.current?.focus();
          }
        }}
      >
        {children}
      </div>
    </>
  );
}
