import type { Clock } from "../options.js";
import { LinearizedSet } from "./linearized-set.js";
import { MemoTable } from "./memo-table.js";
import type { RegisterOp } from "./register-model.js";
import { ABSENT, READ, step } from "./register-model.js";

/**
 * Wing & Gong's search for a linearization, with Lowe's memoisation ("Testing for
 * linearizability", 2017), in the shape Porcupine uses:
 *
 * - the history is a doubly linked list of call and return entries in time order;
 * - scanning from the head, a call entry is a candidate to linearize next: if the model accepts
 *   it and the pair (set of linearized operations, model state) was never seen, the operation is
 *   "lifted" out of the list (its call and its return), pushed on a stack, and the scan restarts;
 * - reaching a return entry means that operation had to be linearized by now and was not: the
 *   last choice is undone (popped, unlifted) and the scan goes on after it;
 * - an empty list (or only `info` operations left) is a linearization; an empty stack at a
 *   return entry proves there is none.
 *
 * The memo (Lowe's cache) is what makes this practical: without it the search revisits the
 * same configuration through every order of commuting operations.
 *
 * `info` operations return at +Infinity, after every completed operation: once the scan meets
 * one's return entry, every definite operation has been linearized, and the remaining `info`
 * operations may be assumed to take effect at the end or never, so the search succeeds.
 *
 * Equal times: a call and a return at the same instant are treated as concurrent (calls sort
 * first). Clocks have finite resolution; calling them ordered could report a violation that is
 * only a rounding of timestamps.
 */

/** How far a search may go. */
export interface SearchBudget {
  readonly maxStates: number;
  /** Absolute time (on `now`) at which to stop. */
  readonly deadline: number;
  readonly now: Clock;
}

/** The deepest point the search reached: the longest linearizable prefix it found. */
export interface Deepest {
  /** Indices into the ops array, in linearization order. */
  readonly prefix: number[];
  /** Model state after the prefix. */
  readonly state: number;
  /** The operation whose return entry stopped the scan: it had to be next and could not be. */
  readonly blocked: number;
  /** Operations that could have been linearized next at that point (all rejected or seen). */
  readonly candidates: number[];
}

export type SearchOutcome =
  | { readonly result: "ok"; readonly states: number }
  | { readonly result: "violation"; readonly states: number; readonly deepest: Deepest }
  | {
      readonly result: "unknown";
      readonly reason: "max-states" | "time-limit";
      readonly states: number;
      readonly deepest: Deepest | null;
    };

const NIL = -1;
/** How often (loop iterations) the clock is read: reading it on every step would cost more than the step. */
const CLOCK_EVERY = 1024;
/** Candidates listed in a dead end: enough to explain, bounded for huge concurrency. */
const MAX_CANDIDATES = 16;

/**
 * Searches for a linearization of `ops` (one key's operations) starting from the absent
 * register. Pure function of its input and budget.
 */
export function searchLinearization(
  ops: readonly RegisterOp[],
  budget: SearchBudget,
): SearchOutcome {
  const n = ops.length;
  // Operation indices in invocation order: the cache's compact set representation relies on it.
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => ops[a]!.call - ops[b]!.call || a - b,
  );
  const rank = new Int32Array(n); // op -> position in invocation order
  for (let i = 0; i < n; i++) rank[order[i]!] = i;

  // Entries: 0..n-1 calls, n..2n-1 returns, 2n the head sentinel.
  const HEAD = 2 * n;
  const next = new Int32Array(2 * n + 1);
  const prev = new Int32Array(2 * n + 1);
  const entries = Array.from({ length: 2 * n }, (_, e) => e).sort((a, b) => {
    const ta = a < n ? ops[a]!.call : ops[a - n]!.ret;
    const tb = b < n ? ops[b]!.call : ops[b - n]!.ret;
    if (ta !== tb) return ta < tb ? -1 : 1;
    const ra = a < n ? 0 : 1;
    const rb = b < n ? 0 : 1;
    return ra - rb || a - b;
  });
  let last = HEAD;
  prev[HEAD] = NIL;
  for (const e of entries) {
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  next[last] = NIL;

  let definiteLeft = 0;
  for (const o of ops) if (o.ret !== Number.POSITIVE_INFINITY) definiteLeft++;
  if (definiteLeft === 0) return { result: "ok", states: 0 };

  const lift = (c: number): void => {
    const r = c + n;
    next[prev[c]!] = next[c]!;
    if (next[c] !== NIL) prev[next[c]!] = prev[c]!;
    next[prev[r]!] = next[r]!;
    if (next[r] !== NIL) prev[next[r]!] = prev[r]!;
  };
  const unlift = (c: number): void => {
    const r = c + n;
    next[prev[r]!] = r;
    if (next[r] !== NIL) prev[next[r]!] = r;
    next[prev[c]!] = c;
    if (next[c] !== NIL) prev[next[c]!] = c;
  };

  const set = new LinearizedSet(n);
  const memo = new MemoTable();

  // The stack of choices: call entry (bitwise-negated if forced), state before it, `k` before it.
  const stackEntry: number[] = [];
  const stackState: number[] = [];
  const stackK: number[] = [];
  let state = ABSENT;
  let deepest: Deepest | null = null;
  let iterations = 0;

  // `info` operations never have to be linearized, and pile up as the run goes (every timeout
  // adds one): each pending one would double the configurations. Two reductions, both exact:
  // - an `info` operation is not linearized where it changes nothing (a delete of an absent
  //   value): dropping it from such a spot in any linearization leaves a valid one;
  // - among pending `info` operations with the same effect (all deletes; writes of one value),
  //   only the first in the list is tried: swapping two of them in any linearization gives
  //   another, since neither has a deadline and both are already invoked.
  const hasEarlierTwin = (entry: number): boolean => {
    const o = ops[entry]!;
    for (let e = next[HEAD]!; e !== entry; e = next[e]!) {
      if (e >= n) continue;
      const p = ops[e]!;
      if (p.ret === Number.POSITIVE_INFINITY && p.kind === o.kind && p.arg === o.arg) return true;
    }
    return false;
  };

  const recordDeadEnd = (blocked: number): void => {
    if (deepest !== null && deepest.prefix.length >= stackEntry.length) return;
    const candidates: number[] = [];
    for (
      let e = next[HEAD]!;
      e !== NIL && e < n && candidates.length < MAX_CANDIDATES;
      e = next[e]!
    ) {
      candidates.push(e);
    }
    deepest = { prefix: stackEntry.map((e) => (e < 0 ? ~e : e)), state, blocked, candidates };
  };

  let entry = next[HEAD]!;
  for (;;) {
    if (++iterations % CLOCK_EVERY === 0 && budget.now() >= budget.deadline) {
      return { result: "unknown", reason: "time-limit", states: memo.size, deepest };
    }
    let dead = false;
    if (entry < n) {
      const o = ops[entry]!;
      const s = step(state, o);
      if (
        s >= 0 &&
        (o.ret !== Number.POSITIVE_INFINITY || !(s === state || hasEarlierTwin(entry)))
      ) {
        const r = rank[entry]!;
        const prevK = set.add(r);
        // A read that succeeds now can be linearized now without losing anything: in any
        // linearization from here it can be moved to the front (everything that had to precede
        // it already has, and a read changes no state, in any state). So it is not a choice, and
        // backtracking never tries it elsewhere. This keeps concurrent reads of one value from
        // multiplying states (2^reads subsets otherwise). Not so for a write of the value
        // already there: moved to the front, it would no longer overwrite what it overwrote.
        const forced = o.kind === READ;
        if (memo.add(set, s)) {
          if (memo.size > budget.maxStates) {
            return { result: "unknown", reason: "max-states", states: memo.size, deepest };
          }
          stackEntry.push(forced ? ~entry : entry);
          stackState.push(state);
          stackK.push(prevK);
          state = s;
          lift(entry);
          if (o.ret !== Number.POSITIVE_INFINITY && --definiteLeft === 0) {
            return { result: "ok", states: memo.size };
          }
          entry = next[HEAD]!;
          continue;
        }
        set.remove(r, prevK);
        // Seen before with this operation linearized: that configuration failed, and since the
        // step was forced, so does this one.
        dead = forced;
      }
      if (!dead) {
        entry = next[entry]!;
        continue;
      }
    } else {
      // A return entry: its operation was due and could not be linearized in this branch.
      const blocked = entry - n;
      if (ops[blocked]!.ret === Number.POSITIVE_INFINITY)
        return { result: "ok", states: memo.size };
      recordDeadEnd(blocked);
    }
    // Backtrack: undo choices until one with an alternative (a non-forced one).
    for (;;) {
      const top = stackEntry.pop();
      if (top === undefined) return { result: "violation", states: memo.size, deepest: deepest! };
      const e = top < 0 ? ~top : top;
      state = stackState.pop()!;
      set.remove(rank[e]!, stackK.pop()!);
      unlift(e);
      if (ops[e]!.ret !== Number.POSITIVE_INFINITY) definiteLeft++;
      if (top >= 0) {
        entry = next[e]!;
        break;
      }
    }
  }
}
