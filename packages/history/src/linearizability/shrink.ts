import type { RegisterOp } from "./register-model.js";
import { withObservedWrites } from "./sub-history.js";
import type { SearchBudget } from "./wgl-search.js";
import { searchLinearization } from "./wgl-search.js";
import { windowBefore } from "./windows.js";

/**
 * Shrinks a non-linearizable set of operations to a small subset that is non-linearizable on its
 * own, using only the cuts of `withObservedWrites` (so the witness is real evidence against the
 * whole history, not an artefact of cutting). First the operations just before the one the
 * failed search got stuck on, if they fail on their own; then the shortest prefix by invocation time
 * that still fails, found by binary search (failure is monotone in the prefix, since a longer
 * prefix only adds operations); then delta debugging: chunks of operations, down to single ones.
 * Every probe is a full search under the given budget; a probe that runs out of budget counts as
 * "does not fail" (the operations stay).
 */
export function shrinkViolation(
  ops: readonly RegisterOp[],
  blocked: RegisterOp,
  budget: SearchBudget,
  maxChecks: number,
): RegisterOp[] {
  let checks = 0;
  const fails = (subset: readonly RegisterOp[]): boolean => {
    checks++;
    return searchLinearization(subset, budget).result === "violation";
  };

  // Phase 0: the operations just before the one the search got stuck on (growing by 4). On a
  // long history this replaces searches of long prefixes by searches of a few dozen operations.
  let start: readonly RegisterOp[] = ops;
  for (let size = 16; size < ops.length && checks < maxChecks; size *= 4) {
    const local = windowBefore(ops, blocked, size);
    if (local.length < ops.length && fails(local)) {
      start = local;
      break;
    }
  }

  const sorted = [...start].sort((a, b) => a.call - b.call || a.op.id - b.op.id);
  // Phase 1: the shortest failing prefix. `withObservedWrites` adds the writes its reads observed, which
  // may have been invoked later than the prefix (a read can see a write that started after it).
  let lo = 1;
  let hi = sorted.length;
  let best = sorted;
  while (lo < hi && checks < maxChecks) {
    const mid = (lo + hi) >>> 1;
    const candidate = withObservedWrites(sorted.slice(0, mid), sorted);
    if (fails(candidate)) {
      hi = mid;
      best = candidate;
    } else {
      lo = mid + 1;
    }
  }

  // Phase 2: delta debugging. Drop chunks of operations (halves, then quarters, ... then single
  // operations), keeping back the writes that remaining reads observed, while the rest still
  // fails. Removing chunks first keeps the number of searches near log(n) per useful cut.
  for (let chunk = best.length >>> 1; chunk >= 1 && checks < maxChecks; ) {
    let removed = false;
    for (let start = 0; start < best.length && checks < maxChecks; start += chunk) {
      const dropped = new Set(best.slice(start, start + chunk));
      const kept = best.filter((o) => !dropped.has(o));
      const candidate = withObservedWrites(kept, best);
      if (candidate.length < best.length && candidate.length > 0 && fails(candidate)) {
        best = candidate.sort((x, y) => x.call - y.call || x.op.id - y.op.id);
        removed = true;
        start -= chunk; // the next chunk now starts where this one did
      }
    }
    // After a successful pass, go again at the same size (bounded by the new length).
    chunk = removed ? Math.max(1, Math.min(chunk, best.length >>> 1)) : chunk >>> 1;
  }
  return best;
}
