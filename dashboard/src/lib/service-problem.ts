/**
 * What the dashboard says when the Python API (`MEDREMIND_API_URL`) gives no usable answer to a
 * template check or a preview (pure: unit-tested without a server). "Did not answer" is only for
 * no answer at all: a refused API key is no passing fault, and "try again in a moment" would send
 * a clinician round in circles while only whoever runs the dashboard can fix it.
 */

/** Why the service gave no usable answer: `status` is its HTTP status, null when none came. */
export function serviceProblem(status: number | null): { reason: string; retry: boolean } {
  if (status === null) return { reason: "the MedRemind service did not answer", retry: true };
  if (status === 401 || status === 403) {
    return {
      reason:
        "the MedRemind service refused the dashboard's API key (MEDREMIND_API_KEY is missing or revoked: whoever runs the dashboard sets one made with medremind apikey create)",
      retry: false,
    };
  }
  if (status === 429) return { reason: "the MedRemind service is busy (too many requests from the dashboard)", retry: true };
  return { reason: `the MedRemind service answered with an error (HTTP ${status})`, retry: true };
}
