import { NavLinks } from "@/components/NavLinks";
import { requireClinician } from "@/lib/auth";
import { SessionGuard } from "@/components/SessionGuard";
import { resumeSession, signOut } from "../login/actions";
import { MainMenu } from "./MainMenu";
import styles from "./nav.module.css";

export default async function AppLayout({ children }: { children: React.ReactNode }) {
  const clinician = await requireClinician();
  return (
    <>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className={styles.header}>
        <div className={styles.inner}>
          <span className={styles.brand}>MedRemind</span>
          <MainMenu>
            <nav aria-label="Main">
              <NavLinks className={styles.links} />
            </nav>
            <div className={styles.who}>
              <span data-testid="clinic-name">
                {clinician.displayName} · {clinician.organizationName}
              </span>
              <form action={signOut}>
                <button type="submit">Sign out</button>
              </form>
            </div>
          </MainMenu>
        </div>
      </header>
      <main id="content">
        <SessionGuard action={resumeSession} />
        {children}
      </main>
    </>
  );
}
