"use client";

/** A failed page: say so plainly and offer a retry; details stay in the server log. */
export default function ErrorPage({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="panel" role="alert">
      <h1>Something went wrong</h1>
      <p>The page could not be loaded. Please try again; if it keeps failing, tell your administrator.</p>
      <button type="button" onClick={() => reset()}>
        Try again
      </button>
    </div>
  );
}
