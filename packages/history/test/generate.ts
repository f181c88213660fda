import type { Operation, Outcome } from "../src/index.js";

/**
 * Histories produced by a correct single-copy store, for property tests and the benchmark.
 *
 * Clients issue operations one after the other, each with a random latency; every operation
 * that takes effect does so atomically at a random instant inside [invoke, complete] (an `info`
 * operation may also take effect after the client gave up, or never; a `fail` one never does).
 * Effects are applied in the order of those instants to the model, which also computes what
 * each read returns:
 *
 * - `register`: an atomic register (linearizable by construction);
 * - `causal`: a single-copy store with DistKV's causal semantics: a blind write supersedes every
 *   version present, a write with a context supersedes what the context covers and leaves the
 *   rest as siblings, deletes leave hidden tombstones. Clients sometimes write with the context
 *   of their last read of the key. Reads see the live siblings. Session guarantees hold by
 *   construction (there is one copy).
 */
export interface GenerateOptions {
  seed: number;
  clients: number;
  /** Operations per client. */
  opsPerClient: number;
  keys: number;
  model: "register" | "causal";
  /** @default 0.5 */
  readRatio?: number;
  /** @default 0.05 */
  deleteRatio?: number;
  /** Probability that an operation ends `info`. @default 0.05 */
  infoRatio?: number;
  /** Probability that an operation ends `fail`. @default 0.02 */
  failRatio?: number;
  /** Max latency in ms. @default 10 */
  maxLatencyMs?: number;
  /** Max think time between a client's operations, in ms. @default 3 */
  maxGapMs?: number;
  /** Coordinators to tag operations with (random per operation). @default ["n1"] */
  coordinators?: readonly string[];
  /** Round times to whole ms (creates ties). @default false */
  integerTimes?: boolean;
}

export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    // mulberry32
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

interface Draft {
  id: number;
  process: string;
  key: string;
  type: "read" | "write" | "delete";
  value?: string;
  /** Index of the read whose result is this write's context. */
  contextFrom?: number;
  invokeMs: number;
  completeMs: number | null;
  outcome: Outcome;
  coordinator: string;
  /** When it takes effect; undefined: never. */
  at?: number;
  values?: string[];
}

interface Version {
  value: string;
  tombstone: boolean;
}

export function generateHistory(options: GenerateOptions): Operation[] {
  const rng = new Rng(options.seed);
  const readRatio = options.readRatio ?? 0.5;
  const deleteRatio = options.deleteRatio ?? 0.05;
  const infoRatio = options.infoRatio ?? 0.05;
  const failRatio = options.failRatio ?? 0.02;
  const maxLatency = options.maxLatencyMs ?? 10;
  const maxGap = options.maxGapMs ?? 3;
  const coordinators = options.coordinators ?? ["n1"];
  const round = options.integerTimes === true ? Math.round : (x: number) => x;
  const keys = Array.from({ length: options.keys }, (_, i) => `k${i}`);

  const drafts: Draft[] = [];
  for (let c = 0; c < options.clients; c++) {
    const process = `c${c}`;
    let t = round(rng.next() * maxGap);
    const lastRead = new Map<string, number>();
    for (let i = 0; i < options.opsPerClient; i++) {
      const key = rng.pick(keys);
      const roll = rng.next();
      const type = roll < readRatio ? "read" : roll < readRatio + deleteRatio ? "delete" : "write";
      const invokeMs = t;
      const completeMs = round(invokeMs + 0.1 + rng.next() * maxLatency);
      const o = rng.next();
      const outcome: Outcome = o < infoRatio ? "info" : o < infoRatio + failRatio ? "fail" : "ok";
      const d: Draft = {
        id: 0,
        process,
        key,
        type,
        invokeMs,
        completeMs,
        outcome,
        coordinator: rng.pick(coordinators),
      };
      if (type !== "read") d.value = `${process}-${i}`;
      if (type !== "read" && options.model === "causal" && rng.next() < 0.5) {
        const from = lastRead.get(key);
        if (from !== undefined) d.contextFrom = from;
      }
      if (outcome === "ok") d.at = invokeMs + rng.next() * (completeMs - invokeMs);
      if (outcome === "info" && rng.next() < 0.5) {
        // A timed-out request may still land, even well after the client gave up.
        d.at = invokeMs + rng.next() * 3 * (completeMs - invokeMs);
      }
      drafts.push(d);
      if (type === "read" && outcome === "ok") lastRead.set(key, drafts.length - 1);
      t = round(completeMs + rng.next() * maxGap);
    }
  }

  // Apply effects in the order of their instants.
  const effects = drafts.filter((d) => d.at !== undefined).sort((a, b) => a.at! - b.at!);
  const register = new Map<string, string>();
  const store = new Map<string, Version[]>();
  for (const d of effects) {
    if (options.model === "register") {
      if (d.type === "write") register.set(d.key, d.value!);
      else if (d.type === "delete") register.delete(d.key);
      else {
        const v = register.get(d.key);
        d.values = v === undefined ? [] : [v];
      }
      continue;
    }
    const siblings = store.get(d.key) ?? [];
    if (d.type === "read") {
      d.values = siblings.filter((s) => !s.tombstone).map((s) => s.value);
      continue;
    }
    // A version is superseded when the new one's causal past contains it. In one copy a live
    // sibling can only be in that past directly: anything that superseded it would have removed
    // it. So a blind write supersedes every sibling, a write with a context the siblings named
    // in it (their ancestors are already gone).
    const covered: Set<string> =
      d.contextFrom === undefined
        ? new Set(siblings.map((s) => s.value))
        : new Set(drafts[d.contextFrom]!.values!);
    const version: Version = { value: d.value!, tombstone: d.type === "delete" };
    store.set(d.key, [...siblings.filter((s) => !covered.has(s.value)), version]);
  }

  // Resolve contexts before renumbering: operations get ids in invocation order.
  const contexts = new Map<Draft, string[]>();
  for (const d of drafts) {
    if (d.contextFrom !== undefined) contexts.set(d, drafts[d.contextFrom]!.values!);
  }
  drafts.sort((a, b) => a.invokeMs - b.invokeMs || a.process.localeCompare(b.process));
  return drafts.map((d, id) => {
    const op: Record<string, unknown> = {
      id,
      process: d.process,
      key: d.key,
      type: d.type,
      invokeMs: d.invokeMs,
      completeMs: d.outcome === "info" && rng.next() < 0.3 ? null : d.completeMs,
      outcome: d.outcome,
      coordinator: d.coordinator,
    };
    if (d.value !== undefined) op.value = d.value;
    const context = contexts.get(d);
    if (context !== undefined) op.context = context;
    if (d.type === "read" && d.outcome === "ok") op.values = d.values;
    return op as unknown as Operation;
  });
}
