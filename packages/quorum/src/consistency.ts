/**
 * Per-request consistency: how many replicas must answer. `one` = 1, `quorum` = floor(N/2) + 1,
 * `all` = N. Omitted: the coordinator's configured `readQuorum` / `writeQuorum`.
 */
export type Consistency = "one" | "quorum" | "all";

/** How concurrent versions are resolved: kept as siblings, or last-write-wins by timestamp. */
export type ConflictPolicy = "siblings" | "lww";

export const CONSISTENCY_LEVELS: readonly Consistency[] = Object.freeze(["one", "quorum", "all"]);
export const CONFLICT_POLICIES: readonly ConflictPolicy[] = Object.freeze(["siblings", "lww"]);

/** A majority of `n` replicas. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** Replies or acknowledgements a request at `level` needs among `n` replicas. */
export function replicasNeeded(
  level: Consistency | undefined,
  n: number,
  fallback: number,
): number {
  switch (level) {
    case "one":
      return 1;
    case "quorum":
      return majority(n);
    case "all":
      return n;
    default:
      return fallback;
  }
}
