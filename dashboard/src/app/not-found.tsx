import type { Metadata } from "next";
import Link from "next/link";
import styles from "./(app)/nav.module.css";

export const metadata: Metadata = { title: "Page not found" };

/**
 * Any address the dashboard does not have (a mistyped or outdated link): the dashboard's header
 * and a way back, instead of Next's bare 404. Answered with status 404. The way back is the
 * patient list, which sends a clinician who is not signed in to the sign-in page first.
 */
export default function NotFound() {
  return (
    <>
      <header className={styles.header}>
        <div className={styles.inner}>
          <Link href="/patients" className={styles.brand} style={{ color: "#fff", textDecoration: "none" }}>
            MedRemind
          </Link>
        </div>
      </header>
      <main id="content" style={{ maxWidth: 640 }}>
        <div className="panel" data-testid="not-found">
          <h1>Page not found</h1>
          <p>There is no page at this address. The link may be mistyped or out of date.</p>
          <p className="actions">
            <Link href="/patients" className="button">
              Go to the patient list
            </Link>
          </p>
        </div>
      </main>
    </>
  );
}
