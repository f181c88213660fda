import { actorProblem, assertValidActor } from "./actor.js";
import { CounterOverflowError, InvalidVersionVectorError } from "./errors.js";

/** One actor's counter: how many events of that actor are covered. */
export type VersionVectorEntry = readonly [actor: string, counter: number];

/**
 * A version vector (vector clock): actor id -> counter, as an array of entries sorted by actor
 * (JavaScript string order, i.e. UTF-16 code units), with no duplicate actors and every counter an
 * integer in [1, MAX_COUNTER]. An absent actor means counter 0. Arrays rather than Maps because
 * the vectors are tiny (bounded by the cluster size) and sit on every request: a sorted array
 * makes compare/merge one linear walk with no hashing and no per-call Map allocation.
 *
 * Every function here assumes these invariants; values built by `versionVector()`, by the decoders
 * and by the other functions of this package satisfy them. Treat values as immutable: functions
 * may return (and share) their inputs.
 */
export type VersionVector = readonly VersionVectorEntry[];

/** How `a` relates to `b`: `before` means a happened before b (b dominates a). */
export type Ordering = "before" | "after" | "equal" | "concurrent";

/** Largest counter: past it, numbers lose integer precision. */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

/** The vector that covers nothing. */
export const EMPTY_VERSION_VECTOR: VersionVector = Object.freeze([]) as VersionVector;

function isCounter(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 1;
}

/**
 * Builds a version vector from `[actor, counter]` pairs or an `{ actor: counter }` record, sorting
 * it. Counters of 0 are dropped (0 is the same as absent). Throws InvalidVersionVectorError on a
 * bad actor id, a counter that is not an integer in [0, MAX_COUNTER], or a repeated actor.
 */
export function versionVector(
  init?: Iterable<readonly [string, number]> | Readonly<Record<string, number>>,
): VersionVector {
  if (init === undefined) return EMPTY_VERSION_VECTOR;
  const pairs: Iterable<readonly [string, number]> =
    Symbol.iterator in init
      ? (init as Iterable<readonly [string, number]>)
      : Object.entries(init as Readonly<Record<string, number>>);
  const out: VersionVectorEntry[] = [];
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new InvalidVersionVectorError("each entry must be an [actor, counter] pair");
    }
    const [actor, counter] = pair as readonly [unknown, unknown];
    const problem = actorProblem(actor);
    if (problem !== undefined) throw new InvalidVersionVectorError(problem);
    if (counter === 0) continue;
    if (!isCounter(counter)) {
      throw new InvalidVersionVectorError(
        `counter for actor ${JSON.stringify(actor)} must be an integer in [0, ${MAX_COUNTER}], got ${String(counter)}`,
      );
    }
    out.push([actor as string, counter]);
  }
  out.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  for (let i = 1; i < out.length; i++) {
    if (out[i - 1]![0] === out[i]![0]) {
      throw new InvalidVersionVectorError(`actor ${JSON.stringify(out[i]![0])} appears twice`);
    }
  }
  return out;
}

/** Why `vv` breaks the VersionVector invariants, or undefined if it does not. */
export function versionVectorProblem(vv: unknown): string | undefined {
  if (!Array.isArray(vv)) return "a version vector must be an array of [actor, counter] entries";
  let previous: string | undefined;
  for (let i = 0; i < vv.length; i++) {
    const entry: unknown = vv[i];
    if (!Array.isArray(entry) || entry.length !== 2)
      return `entry ${i} is not an [actor, counter] pair`;
    const [actor, counter] = entry as [unknown, unknown];
    const problem = actorProblem(actor);
    if (problem !== undefined) return `entry ${i}: ${problem}`;
    if (!isCounter(counter)) return `entry ${i}: counter must be an integer in [1, ${MAX_COUNTER}]`;
    if (previous !== undefined && !(previous < (actor as string))) {
      return `entry ${i}: actors must be strictly ascending`;
    }
    previous = actor as string;
  }
  return undefined;
}

/** True if `vv` satisfies the VersionVector invariants (sorted, unique, valid counters). */
export function isVersionVector(vv: unknown): vv is VersionVector {
  return versionVectorProblem(vv) === undefined;
}

/** Throws InvalidVersionVectorError unless `vv` satisfies the VersionVector invariants. */
export function assertVersionVector(vv: unknown): asserts vv is VersionVector {
  const problem = versionVectorProblem(vv);
  if (problem !== undefined) throw new InvalidVersionVectorError(problem);
}

/** The counter of `actor` in `vv` (0 if absent). */
export function counterOf(vv: VersionVector, actor: string): number {
  for (let i = 0; i < vv.length; i++) {
    const e = vv[i]!;
    if (e[0] === actor) return e[1];
    if (e[0] > actor) return 0;
  }
  return 0;
}

/** True if `vv` covers the event (dot) `counter` of `actor`. */
export function coversDot(vv: VersionVector, actor: string, counter: number): boolean {
  return counterOf(vv, actor) >= counter;
}

/** Compares two vectors. `before`: every counter of a <= b's and they differ. */
export function compareVersionVectors(a: VersionVector, b: VersionVector): Ordering {
  if (a === b) return "equal";
  let aAhead = false;
  let bAhead = false;
  let i = 0;
  let j = 0;
  const na = a.length;
  const nb = b.length;
  while (i < na && j < nb) {
    const ea = a[i]!;
    const eb = b[j]!;
    if (ea[0] === eb[0]) {
      if (ea[1] > eb[1]) aAhead = true;
      else if (ea[1] < eb[1]) bAhead = true;
      i++;
      j++;
    } else if (ea[0] < eb[0]) {
      aAhead = true;
      i++;
    } else {
      bAhead = true;
      j++;
    }
    if (aAhead && bAhead) return "concurrent";
  }
  if (i < na) aAhead = true;
  if (j < nb) bAhead = true;
  if (aAhead) return bAhead ? "concurrent" : "after";
  return bAhead ? "before" : "equal";
}

/** True if `a` covers everything `b` covers (a >= b: after or equal). */
export function descends(a: VersionVector, b: VersionVector): boolean {
  if (a === b || b.length === 0) return true;
  if (b.length > a.length) return false;
  let i = 0;
  const na = a.length;
  for (let j = 0; j < b.length; j++) {
    const eb = b[j]!;
    while (i < na && a[i]![0] < eb[0]) i++;
    if (i === na) return false;
    const ea = a[i]!;
    if (ea[0] !== eb[0] || ea[1] < eb[1]) return false;
    i++;
  }
  return true;
}

/** True if `a` strictly dominates `b` (a > b: covers everything b does, and more). */
export function dominates(a: VersionVector, b: VersionVector): boolean {
  return compareVersionVectors(a, b) === "after";
}

/** True if both vectors have the same entries. */
export function versionVectorEquals(a: VersionVector, b: VersionVector): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const ea = a[i]!;
    const eb = b[i]!;
    if (ea[0] !== eb[0] || ea[1] !== eb[1]) return false;
  }
  return true;
}

/**
 * The least upper bound (entry-wise max). Returns `a` or `b` itself when one already covers the
 * other, so merging an up-to-date replica allocates nothing.
 */
export function mergeVersionVectors(a: VersionVector, b: VersionVector): VersionVector {
  if (descends(a, b)) return a;
  if (descends(b, a)) return b;
  const out: VersionVectorEntry[] = [];
  let i = 0;
  let j = 0;
  const na = a.length;
  const nb = b.length;
  while (i < na && j < nb) {
    const ea = a[i]!;
    const eb = b[j]!;
    if (ea[0] === eb[0]) {
      // Entries are immutable, so the larger one is shared rather than copied.
      out.push(ea[1] >= eb[1] ? ea : eb);
      i++;
      j++;
    } else if (ea[0] < eb[0]) {
      out.push(ea);
      i++;
    } else {
      out.push(eb);
      j++;
    }
  }
  while (i < na) out.push(a[i++]!);
  while (j < nb) out.push(b[j++]!);
  return out;
}

/** `vv` with `actor`'s counter set to `counter` (>= 1), keeping the sort order. Internal. */
export function withCounter(vv: VersionVector, actor: string, counter: number): VersionVector {
  const n = vv.length;
  let i = 0;
  while (i < n && vv[i]![0] < actor) i++;
  const out: VersionVectorEntry[] = new Array(i < n && vv[i]![0] === actor ? n : n + 1);
  for (let k = 0; k < i; k++) out[k] = vv[k]!;
  out[i] = [actor, counter];
  const skip = i < n && vv[i]![0] === actor ? 1 : 0;
  for (let k = i + skip; k < n; k++) out[k + 1 - skip] = vv[k]!;
  return out;
}

/** `vv` with `actor`'s counter incremented by one. Throws CounterOverflowError past MAX_COUNTER. */
export function incrementVersionVector(vv: VersionVector, actor: string): VersionVector {
  assertValidActor(actor);
  const current = counterOf(vv, actor);
  if (current >= MAX_COUNTER) {
    throw new CounterOverflowError(`counter of actor ${JSON.stringify(actor)} is at MAX_COUNTER`);
  }
  return withCounter(vv, actor, current + 1);
}

/** A plain `{ actor: counter }` object (null prototype), for logs and JSON. */
export function versionVectorToObject(vv: VersionVector): Record<string, number> {
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [actor, counter] of vv) out[actor] = counter;
  return out;
}
