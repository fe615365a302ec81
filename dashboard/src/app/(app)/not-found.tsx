import Link from "next/link";

/** Shown for unknown ids and for rows of another clinic alike, so neither can be told apart. */
export default function NotFound() {
  return (
    <div className="panel" data-testid="not-found">
      <h1>Not found</h1>
      <p>
        Nothing of your clinic is at this address: the link may be mistyped or out of date, or the
        record was removed.
      </p>
      <p className="actions">
        <Link href="/patients" className="button">
          Go to the patient list
        </Link>
      </p>
    </div>
  );
}
