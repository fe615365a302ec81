import type { Metadata } from "next";
import Link from "next/link";
import { ChannelBadges } from "@/components/ChannelBadges";
import { StatusBadge } from "@/components/StatusBadge";
import { requireClinician } from "@/lib/auth";
import { asClinician } from "@/lib/db";
import { adherence, listPatients, tombstones } from "@/lib/data/patients";
import { formatInZone } from "@/lib/time";

export const metadata: Metadata = { title: "Patients" };

function Percent({ taken, closed }: { taken: number; closed: number }) {
  const value = adherence(taken, closed);
  if (value === null) return <span className="muted">no doses</span>;
  const tone = value >= 80 ? "ok" : value >= 50 ? "warn" : "bad";
  return (
    <span className={`badge ${tone}`} title={`${taken} of ${closed} doses taken`}>
      {value}%
    </span>
  );
}

export default async function PatientsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const clinician = await requireClinician();
  const params = await searchParams;
  // PostgreSQL's text holds no NUL: a search with one (only a hand-made address has it) failed
  // the page with a 500. It is searched for without it.
  const q = typeof params.q === "string" ? params.q.replaceAll("\u0000", "").trim().slice(0, 100) : "";
  const { list, erased } = await asClinician(clinician.id, async (tx) => ({
    list: await listPatients(tx, q),
    erased: await tombstones(tx),
  }));
  const { patients, total } = list;
  return (
    <>
      <div className="row" style={{ justifyContent: "space-between", marginBottom: "1rem" }}>
        <h1 style={{ margin: 0 }}>Patients</h1>
        <Link className="button" href="/patients/new">
          New patient
        </Link>
      </div>
      <form role="search" className="panel row" action="/patients">
        <div className="field" style={{ marginBottom: 0 }}>
          <label htmlFor="q">Search by name, external id or address</label>
          <input id="q" name="q" type="search" defaultValue={q} />
        </div>
        <button type="submit">Search</button>
      </form>
      <div className="panel table-wrap">
        <table>
          <caption>
            {total > patients.length ? `${patients.length} of ${total}` : patients.length} patient{total === 1 ? "" : "s"}
            {q ? ` matching “${q}”` : ""}
            {/* Last answer is at the clinic's time, as the other lists say: not the patient's. */}
            {` · times in ${clinician.timezone}`}
            {total > patients.length ? (
              <span className="muted" data-testid="list-limit">
                {" "}
                · the first {patients.length} by name; search to find the others
              </span>
            ) : null}
          </caption>
          <thead>
            <tr>
              <th scope="col">Patient</th>
              <th scope="col">Adherence 7 days</th>
              <th scope="col">Adherence 30 days</th>
              <th scope="col">Last answer</th>
              <th scope="col">Channels</th>
            </tr>
          </thead>
          <tbody>
            {patients.map((p) => (
              <tr key={p.id} data-testid="patient-row">
                <td>
                  <Link href={`/patients/${p.id}`}>{p.display_name ?? "Unnamed patient"}</Link>
                  {p.status !== "active" ? <span className="badge neutral">{p.status}</span> : null}
                </td>
                <td><Percent taken={p.taken_7} closed={p.closed_7} /></td>
                <td><Percent taken={p.taken_30} closed={p.closed_30} /></td>
                <td>
                  {p.last_answer_status ? (
                    <>
                      <StatusBadge status={p.last_answer_status} />
                      <span className="muted">{formatInZone(p.last_answer_at, clinician.timezone)}</span>
                    </>
                  ) : (
                    <span className="muted">none yet</span>
                  )}
                </td>
                <td><ChannelBadges channels={p.channels} /></td>
              </tr>
            ))}
            {patients.length === 0 ? (
              <tr>
                <td colSpan={5} className="muted">No patients found.</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
      {erased.length > 0 ? (
        <section className="panel" aria-labelledby="erased-h">
          <h2 id="erased-h">Deleted patients</h2>
          <ul>
            {erased.map((t) => (
              <li key={t.id} data-testid="tombstone-row">
                {t.erasure_reason ?? "Deleted"}, {formatInZone(t.erased_at, clinician.timezone)}{" "}
                <span className="muted">(record {t.id.slice(0, 8)})</span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}
