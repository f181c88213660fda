import type { RegisterOp } from "./register-model.js";
import { ABSENT, READ, WRITE } from "./register-model.js";

/**
 * `subset` plus the writes and deletes (from `all`) whose outcome its reads could observe.
 *
 * The cuts this allows are the ones that cannot create a violation, which is what makes a
 * failing sub-history evidence against the whole:
 * - removing a read only removes a constraint;
 * - removing a write (or delete) that no remaining read could have observed cannot break a
 *   linearization: in any linearization of the larger set, the removed write is followed (before
 *   the next write) by no read, since every remaining read returns something else; dropping it
 *   leaves a valid sequence for the smaller set.
 * So if the result is not linearizable, neither is `all` (nor anything between the two).
 */
export function withObservedWrites(
  subset: readonly RegisterOp[],
  all: readonly RegisterOp[],
): RegisterOp[] {
  const wanted = new Set<number>();
  let wantsAbsent = false;
  for (const o of subset) {
    if (o.kind !== READ) continue;
    for (const s of o.expect) {
      if (s === ABSENT) wantsAbsent = true;
      else wanted.add(s);
    }
  }
  const inSubset = new Set(subset);
  const out = [...subset];
  for (const o of all) {
    if (inSubset.has(o) || o.kind === READ) continue;
    const produces = o.kind === WRITE ? o.arg : ABSENT;
    if (produces === ABSENT ? wantsAbsent : wanted.has(produces)) out.push(o);
  }
  return out;
}
