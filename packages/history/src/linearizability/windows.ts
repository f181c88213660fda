import type { RegisterOp } from "./register-model.js";
import { withObservedWrites } from "./sub-history.js";
import type { Deepest, SearchBudget } from "./wgl-search.js";
import { searchLinearization } from "./wgl-search.js";

/** A window that failed on its own. */
export interface FailingWindow {
  readonly ops: RegisterOp[];
  readonly deepest: Deepest;
  readonly states: number;
}

/** The smallest window tried. */
const MIN_WINDOW = 32;

/**
 * Proving a long key non-linearizable means exhausting every alternative before the anomaly,
 * which can take far more states than finding a linearization. Violations in practice are local
 * (a stale read is usually stale with respect to a recent write), so when the full search runs
 * out of budget this searches overlapping windows of operations by invocation order (stride half
 * a window), each with the writes its reads observed (`withObservedWrites`: a failing window is
 * a failing sub-history, so the key fails). Sizes grow by 4 from 32 up to `maxSize`: small
 * windows are cheap to refute, large ones catch anomalies that span more operations. A window
 * can only prove a violation; if none fails, nothing is proven. Returns the first failing
 * window, or null.
 *
 * Budget: all windows together get one more `maxStates`, one window at most an eighth of it.
 * `hint` (where the full search got stuck deepest) orders the windows: those reaching it first.
 */
export function searchWindows(
  ops: readonly RegisterOp[],
  budget: SearchBudget,
  maxSize: number,
  hint?: RegisterOp,
): { window: FailingWindow | null; states: number } {
  const sorted = [...ops].sort((a, b) => a.call - b.call || a.op.id - b.op.id);
  // Where the full search got stuck deepest is the likeliest place: windows reaching it or
  // later come first, then the earlier ones.
  const from = hint === undefined ? 0 : Math.max(0, sorted.indexOf(hint));
  const perWindow = Math.max(1, Math.floor(budget.maxStates / 8));
  let states = 0;
  const sizes: number[] = [];
  for (let s = Math.min(MIN_WINDOW, maxSize); s < maxSize; s *= 4) sizes.push(s);
  sizes.push(maxSize);
  for (const size of sizes) {
    const stride = Math.max(1, size >>> 1);
    const starts: number[] = [];
    for (let start = 0; start < sorted.length; start += stride) {
      starts.push(start);
      if (start + size >= sorted.length) break;
    }
    const late = (start: number) => (start + size > from ? 0 : 1);
    starts.sort((a, b) => late(a) - late(b) || a - b);
    for (const start of starts) {
      const left = budget.maxStates - states;
      if (left <= 0 || budget.now() >= budget.deadline) return { window: null, states };
      const window = withObservedWrites(sorted.slice(start, start + size), sorted);
      const outcome = searchLinearization(window, {
        ...budget,
        maxStates: Math.min(perWindow, left),
      });
      states += outcome.states;
      if (outcome.result === "violation") {
        const found = { ops: window, deepest: outcome.deepest, states: outcome.states };
        return { window: found, states };
      }
    }
    if (size >= sorted.length) break;
  }
  return { window: null, states };
}

/**
 * The operations just before `blocked` completes: the last `size` by invocation among those
 * invoked before it completed, with the writes their reads observed. Where a failed search
 * got stuck is where the evidence usually is, so shrinking tries these first.
 */
export function windowBefore(
  ops: readonly RegisterOp[],
  blocked: RegisterOp,
  size: number,
): RegisterOp[] {
  const sorted = [...ops]
    .filter((o) => o.call <= blocked.ret)
    .sort((a, b) => a.call - b.call || a.op.id - b.op.id);
  const slice = sorted.slice(Math.max(0, sorted.length - size));
  if (!slice.includes(blocked)) slice.push(blocked);
  return withObservedWrites(slice, ops);
}
