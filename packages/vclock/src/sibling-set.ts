import { actorProblem, assertValidActor } from "./actor.js";
import { CounterOverflowError, InvalidSiblingSetError } from "./errors.js";
import { assertValidTimestamp, isValidTimestamp } from "./timestamp.js";
import {
  counterOf,
  EMPTY_VERSION_VECTOR,
  MAX_COUNTER,
  mergeVersionVectors,
  type VersionVector,
  versionVectorEquals,
  versionVectorProblem,
  withCounter,
} from "./version-vector.js";

/**
 * One version of an object. `(actor, counter)` is its dot: the event that wrote it, unique
 * cluster-wide as long as each actor id is only used by one node, for writes against that node's
 * own copy. `value === null` is a tombstone (a delete).
 */
export interface Sibling<V> {
  readonly actor: string;
  readonly counter: number;
  readonly value: V | null;
  /** Wall-clock time of the write, for tombstone GC and last-write-wins. Not used causally. */
  readonly timestampMs: number;
}

/**
 * A stored object: its concurrent versions (siblings) and the clock of everything the object has
 * seen, a dotted version vector set. Invariants: `clock` is a valid VersionVector; every
 * sibling's dot is covered by `clock`; dots are unique; siblings are sorted by (actor, counter).
 * The canonical order makes equal sets structurally equal and their encodings byte-identical.
 *
 * A dot that `clock` covers but no sibling carries has been superseded (overwritten or deleted)
 * here. That is what lets `sync` drop a stale replica's old versions instead of keeping them as
 * siblings forever (the "sibling explosion" of plain per-object vector clocks).
 */
export interface SiblingSet<V> {
  readonly clock: VersionVector;
  readonly siblings: readonly Sibling<V>[];
}

/** The set of a key nothing was ever written to. */
export const EMPTY_SIBLING_SET: SiblingSet<never> = Object.freeze({
  clock: EMPTY_VERSION_VECTOR,
  siblings: Object.freeze([]) as readonly Sibling<never>[],
});

/** `EMPTY_SIBLING_SET`, typed for `V`. */
export function emptySiblingSet<V>(): SiblingSet<V> {
  return EMPTY_SIBLING_SET;
}

/** Orders dots by actor, then counter. */
export function compareDots(
  a: Pick<Sibling<unknown>, "actor" | "counter">,
  b: Pick<Sibling<unknown>, "actor" | "counter">,
): number {
  if (a.actor !== b.actor) return a.actor < b.actor ? -1 : 1;
  return a.counter - b.counter;
}

/**
 * Builds a sibling set from a clock and siblings in any order, validating every invariant.
 * Throws InvalidSiblingSetError (or InvalidVersionVectorError for the clock). Use it for
 * sets that come from outside this package's functions and decoders.
 */
export function siblingSet<V>(clock: VersionVector, siblings: Iterable<Sibling<V>>): SiblingSet<V> {
  const clockProblem = versionVectorProblem(clock);
  if (clockProblem !== undefined) throw new InvalidSiblingSetError(`clock: ${clockProblem}`);
  const out: Sibling<V>[] = [];
  for (const s of siblings) {
    const at = `sibling (${String(s.actor)}, ${String(s.counter)})`;
    const problem = actorProblem(s.actor);
    if (problem !== undefined) throw new InvalidSiblingSetError(`${at}: ${problem}`);
    if (!Number.isSafeInteger(s.counter) || s.counter < 1) {
      throw new InvalidSiblingSetError(`${at}: counter must be an integer in [1, ${MAX_COUNTER}]`);
    }
    if (counterOf(clock, s.actor) < s.counter) {
      throw new InvalidSiblingSetError(`${at}: dot is not covered by the clock`);
    }
    if (!isValidTimestamp(s.timestampMs)) {
      throw new InvalidSiblingSetError(`${at}: timestampMs must be an integer >= 0`);
    }
    if (s.value === undefined) {
      throw new InvalidSiblingSetError(`${at}: value is undefined (use null for a tombstone)`);
    }
    out.push({ actor: s.actor, counter: s.counter, value: s.value, timestampMs: s.timestampMs });
  }
  out.sort(compareDots);
  for (let i = 1; i < out.length; i++) {
    if (compareDots(out[i - 1]!, out[i]!) === 0) {
      throw new InvalidSiblingSetError(`dot (${out[i]!.actor}, ${out[i]!.counter}) appears twice`);
    }
  }
  return { clock, siblings: out };
}

/** The causal context to hand a reader: the object's clock. */
export function context<V>(set: SiblingSet<V>): VersionVector {
  return set.clock;
}

/** The live values (tombstones left out), in sibling order. Empty means "not found". */
export function values<V>(set: SiblingSet<V>): V[] {
  const out: V[] = [];
  for (const s of set.siblings) if (s.value !== null) out.push(s.value);
  return out;
}

/** The siblings that are not tombstones. */
export function liveSiblings<V>(set: SiblingSet<V>): Sibling<V>[] {
  return set.siblings.filter((s) => s.value !== null);
}

/**
 * The coordinator's write. Drops every sibling whose dot `ctx` covers, adds `value` (null: a
 * tombstone) under a fresh dot for `actor` (its highest known counter + 1) and sets the clock to
 * merge(clock, ctx) plus that dot. `set` must be `actor`'s own local copy of the object; the
 * result is what it stores and sends to the other replicas, which `sync` it into theirs.
 *
 * An empty `ctx` keeps every existing sibling (a blind write is concurrent with all of them);
 * pass `context(set)` to overwrite what this replica has.
 *
 * `counterFloor` raises the new dot's counter to at least that value. A store that purges a
 * key's history (tombstone GC) passes its clock in ms: a later write of the key then never
 * reuses a dot that a replica which missed the purge still covers.
 */
export function update<V>(
  set: SiblingSet<V>,
  ctx: VersionVector,
  value: V | null,
  actor: string,
  timestampMs: number,
  counterFloor = 0,
): SiblingSet<V> {
  assertValidActor(actor);
  assertValidTimestamp(timestampMs);
  if (!Number.isSafeInteger(counterFloor) || counterFloor < 0 || counterFloor > MAX_COUNTER) {
    throw new RangeError(
      `counterFloor must be an integer in [0, ${MAX_COUNTER}], got ${counterFloor}`,
    );
  }
  const siblings = set.siblings;
  const kept: Sibling<V>[] = [];
  // Siblings and ctx are both sorted by actor: one walk decides coverage for all siblings.
  let j = 0;
  const nc = ctx.length;
  for (let i = 0; i < siblings.length; i++) {
    const s = siblings[i]!;
    while (j < nc && ctx[j]![0] < s.actor) j++;
    if (j < nc && ctx[j]![0] === s.actor && ctx[j]![1] >= s.counter) continue;
    kept.push(s);
  }
  const merged = mergeVersionVectors(set.clock, ctx);
  const current = counterOf(merged, actor);
  if (current >= MAX_COUNTER) {
    throw new CounterOverflowError(`counter of actor ${JSON.stringify(actor)} is at MAX_COUNTER`);
  }
  const counter = Math.max(current + 1, counterFloor);
  // The new dot is above every known dot of `actor`, so it goes after all of actor's siblings.
  let at = kept.length;
  while (at > 0 && kept[at - 1]!.actor > actor) at--;
  kept.splice(at, 0, { actor, counter, value, timestampMs });
  return { clock: withCounter(merged, actor, counter), siblings: kept };
}

/**
 * Merges two replicas' copies (read repair, replication, hinted handoff, anti-entropy). Keeps a
 * sibling of either side unless the other side's clock covers its dot without holding it (the
 * other side has seen it and superseded it); a dot both hold is kept once (a dot names one write, so
 * both copies are the same version; which copy's objects are returned is unspecified). The clock is the merge of both.
 * Commutative, associative and idempotent. Returns `a` (or `b`) itself when it already is the
 * result, so syncing identical replicas allocates no new set.
 */
export function sync<V>(a: SiblingSet<V>, b: SiblingSet<V>): SiblingSet<V> {
  if (a === b) return a;
  const as = a.siblings;
  const bs = b.siblings;
  const ac = a.clock;
  const bc = b.clock;
  const out: Sibling<V>[] = [];
  let sameAsA = true;
  let sameAsB = true;
  let i = 0;
  let j = 0;
  // Cursors into the clocks: dots are visited in ascending actor order, so they only move forward.
  let ka = 0;
  let kb = 0;
  while (i < as.length || j < bs.length) {
    const sa = as[i];
    const sb = bs[j];
    const c = sa === undefined ? 1 : sb === undefined ? -1 : compareDots(sa, sb);
    if (c === 0) {
      out.push(sa!);
      i++;
      j++;
      continue;
    }
    // A dot only one side holds: keep it unless the other side's clock covers it.
    const s = c < 0 ? sa! : sb!;
    const other = c < 0 ? bc : ac;
    let k = c < 0 ? kb : ka;
    while (k < other.length && other[k]![0] < s.actor) k++;
    const covered = k < other.length && other[k]![0] === s.actor && other[k]![1] >= s.counter;
    if (c < 0) {
      kb = k;
      i++;
      if (covered) sameAsA = false;
      else {
        out.push(s);
        sameAsB = false;
      }
    } else {
      ka = k;
      j++;
      if (covered) sameAsB = false;
      else {
        out.push(s);
        sameAsA = false;
      }
    }
  }
  const clock = mergeVersionVectors(ac, bc);
  if (sameAsA && clock === ac) return a;
  if (sameAsB && clock === bc) return b;
  return { clock, siblings: out };
}

/** `sync` of all the given sets (e.g. the R replies of a read). Empty input: the empty set. */
export function syncAll<V>(sets: Iterable<SiblingSet<V>>): SiblingSet<V> {
  let acc: SiblingSet<V> = EMPTY_SIBLING_SET;
  for (const s of sets) acc = sync(acc, s);
  return acc;
}

/**
 * True if `ctx` covers every sibling of `set`: a write carrying `ctx` would supersede all of
 * them (an empty set is covered by anything).
 */
export function isCoveredBy<V>(set: SiblingSet<V>, ctx: VersionVector): boolean {
  let j = 0;
  const nc = ctx.length;
  for (const s of set.siblings) {
    while (j < nc && ctx[j]![0] < s.actor) j++;
    if (!(j < nc && ctx[j]![0] === s.actor && ctx[j]![1] >= s.counter)) return false;
  }
  return true;
}

/**
 * True if both sets hold the same versions: equal clocks and the same dots with the same
 * timestamps and tombstone flags. Values are not compared: a dot identifies one write.
 */
export function equals<V>(a: SiblingSet<V>, b: SiblingSet<V>): boolean {
  if (a === b) return true;
  if (!versionVectorEquals(a.clock, b.clock)) return false;
  const as = a.siblings;
  const bs = b.siblings;
  if (as.length !== bs.length) return false;
  for (let i = 0; i < as.length; i++) {
    const x = as[i]!;
    const y = bs[i]!;
    if (
      x.actor !== y.actor ||
      x.counter !== y.counter ||
      x.timestampMs !== y.timestampMs ||
      (x.value === null) !== (y.value === null)
    ) {
      return false;
    }
  }
  return true;
}

/**
 * Read repair's question: would syncing `merged` into `replica` change it? True when `merged`'s
 * clock has something `replica`'s lacks, or `replica` still holds a version `merged` has
 * superseded. Same answer as `!equals(sync(replica, merged), replica)`, without building the set.
 * When `merged` is the sync of all replies (replica's included), false means up to date.
 */
export function isStale<V>(replica: SiblingSet<V>, merged: SiblingSet<V>): boolean {
  if (replica === merged) return false;
  const rc = replica.clock;
  const mc = merged.clock;
  const rs = replica.siblings;
  const ms = merged.siblings;
  // 1. merged's clock covers something replica's does not.
  let k = 0;
  for (let j = 0; j < mc.length; j++) {
    const e = mc[j]!;
    while (k < rc.length && rc[k]![0] < e[0]) k++;
    if (k === rc.length || rc[k]![0] !== e[0] || rc[k]![1] < e[1]) return true;
  }
  // 2. replica holds a dot that merged's clock covers but merged no longer holds. (With 1 false,
  //    merged holds nothing replica's clock does not cover, so nothing would be added.)
  let m = 0;
  k = 0;
  for (const s of rs) {
    while (m < ms.length && compareDots(ms[m]!, s) < 0) m++;
    if (m < ms.length && compareDots(ms[m]!, s) === 0) continue;
    while (k < mc.length && mc[k]![0] < s.actor) k++;
    if (k < mc.length && mc[k]![0] === s.actor && mc[k]![1] >= s.counter) return true;
  }
  return false;
}

/** True if the set has siblings and all of them are tombstones (a deleted key). */
export function isTombstoneOnly<V>(set: SiblingSet<V>): boolean {
  const ss = set.siblings;
  if (ss.length === 0) return false;
  for (const s of ss) if (s.value !== null) return false;
  return true;
}

/**
 * True if the set holds no live value and every tombstone is at least `graceMs` old at `nowMs`
 * (an empty set is trivially purgeable). Only half of the purge rule: the caller must also know
 * that every replica has the tombstones, or anti-entropy would resurrect older data.
 */
export function isPurgeable<V>(set: SiblingSet<V>, nowMs: number, graceMs: number): boolean {
  for (const s of set.siblings) {
    if (s.value !== null || s.timestampMs + graceMs > nowMs) return false;
  }
  return true;
}
