import Link from "next/link";

/** Shown for unknown ids and for rows of another clinic alike, so neither can be told apart. */
export default function NotFound() {
  return (
    <div className="panel">
      <h1>Not found</h1>
      <p>This page could not be found.</p>
      <p>
        <Link href="/patients">Back to patients</Link>
      </p>
    </div>
  );
}
