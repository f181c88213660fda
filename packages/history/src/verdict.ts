/**
 * A checker's answer: `ok` (checked, nothing found), `violation` (at least one anomaly), or
 * `unknown` (a budget ran out, or the history lacks what the check needs, e.g. a final read).
 */
export type Verdict = "ok" | "violation" | "unknown";

/** `violation` beats `unknown` beats `ok`; an empty list is `ok`. */
export function worstVerdict(verdicts: Iterable<Verdict>): Verdict {
  let worst: Verdict = "ok";
  for (const v of verdicts) {
    if (v === "violation") return v;
    if (v === "unknown") worst = v;
  }
  return worst;
}
