import type { Operation } from "../src/index.js";

/**
 * Reference linearizability check by exhaustive enumeration, for small single-key histories: every
 * subset of the `info` writes/deletes that took effect, every order of the chosen operations that
 * respects real time (a before b when a completed strictly before b was invoked), replayed on a
 * register that starts absent. A read accepts the register's value if it is among the values read
 * (the `pick-one` policy), or absent for `[]`. A read that contains a value no `ok`/`info` write
 * wrote is a violation even if another of its siblings fits (the checker's `unwritten-value`).
 * Exponential: keep inputs to ~8 operations.
 */
export function bruteForceLinearizable(history: readonly Operation[]): boolean {
  const ops = history.filter(
    (o) => o.outcome !== "fail" && !(o.type === "read" && o.outcome === "info"),
  );
  const written = new Set(ops.filter((o) => o.type === "write").map((o) => o.value));
  if (ops.some((o) => o.values?.some((v) => !written.has(v)))) return false;
  const definite = ops.filter((o) => o.outcome === "ok");
  const optional = ops.filter((o) => o.outcome === "info");
  const end = (o: Operation) => (o.outcome === "info" ? Number.POSITIVE_INFINITY : o.completeMs!);
  for (let mask = 0; mask < 1 << optional.length; mask++) {
    const chosen = [...definite, ...optional.filter((_, i) => (mask >> i) & 1)];
    if (orderExists(chosen, end)) return true;
  }
  return false;
}

function orderExists(ops: readonly Operation[], end: (o: Operation) => number): boolean {
  const used = new Array<boolean>(ops.length).fill(false);
  const go = (placed: number, state: string | null): boolean => {
    if (placed === ops.length) return true;
    for (let i = 0; i < ops.length; i++) {
      if (used[i]) continue;
      const o = ops[i]!;
      // o can go next only if no unplaced operation completed before o was invoked.
      if (ops.some((p, j) => !used[j] && j !== i && end(p) < o.invokeMs)) continue;
      let next = state;
      if (o.type === "write") next = o.value!;
      else if (o.type === "delete") next = null;
      else {
        const vs = o.values!;
        if (vs.length === 0 ? state !== null : state === null || !vs.includes(state)) continue;
      }
      used[i] = true;
      if (go(placed + 1, next)) return true;
      used[i] = false;
    }
    return false;
  };
  return go(0, null);
}
