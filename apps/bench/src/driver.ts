/**
 * The closed-loop request driver: `concurrency` workers, each issuing its next operation as
 * soon as the previous one finished, until the phase's time or operation budget is spent.
 */
import type { Histogram } from "hdr-histogram-js";
import { createLatencyHistogram, recordMillis } from "./latency.js";
import type { KVConnection, RunningTarget } from "./targets/target.js";
import {
  keyName,
  OPERATION_KINDS,
  type OperationKind,
  type WorkloadGenerator,
} from "./workload.js";

export type PhaseBudget = { durationMs: number } | { operations: number };

export interface PhaseParams {
  target: RunningTarget;
  generator: WorkloadGenerator;
  values: readonly Uint8Array[];
  concurrency: number;
  budget: PhaseBudget;
  signal?: AbortSignal | undefined;
}

export interface PhaseResult {
  /** Operations that completed without error. */
  operations: number;
  /** From the first request to the last reply, in ms. */
  durationMs: number;
  /** Latency of successful operations, all kinds together. */
  histogram: Histogram;
  byKind: Record<OperationKind, Histogram>;
  /** Operations issued per kind (successful or not): the mix the target received. */
  mix: Record<OperationKind, number>;
  /** Failed operations by error kind. */
  errors: Record<string, number>;
  /** One message per error kind, for diagnosis. */
  errorSamples: Record<string, string>;
}

/** Live counters for a progress bar. */
export interface PhaseProgress {
  completed: number;
  failed: number;
}

/** A short stable name for an error: its class name plus its code where it has one. */
export function errorKind(e: unknown): string {
  if (typeof e !== "object" || e === null) return typeof e;
  const err = e as { name?: unknown; code?: unknown };
  const name = typeof err.name === "string" && err.name !== "" ? err.name : "Error";
  const code = err.code;
  return typeof code === "number" || (typeof code === "string" && code !== "")
    ? `${name}:${code}`
    : name;
}

export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
}

async function execute(
  conn: KVConnection,
  kind: OperationKind,
  key: string,
  value: Uint8Array,
): Promise<void> {
  switch (kind) {
    case "read": {
      const v = await conn.get(key);
      if (v === undefined) throw new NotFoundError(`read of ${key}: not found`);
      return;
    }
    case "update":
    case "insert":
      return conn.put(key, value);
    case "rmw":
      if (!(await conn.readModifyWrite(key, value))) {
        throw new NotFoundError(`read-modify-write of ${key}: not found`);
      }
      return;
  }
}

function emptyMix(): Record<OperationKind, number> {
  return { read: 0, update: 0, insert: 0, rmw: 0 };
}

/** Runs one phase (a round, a warm-up) and returns what it measured. */
export async function runPhase(
  params: PhaseParams,
  progress: PhaseProgress = { completed: 0, failed: 0 },
): Promise<PhaseResult> {
  const { target, generator, values, budget, signal } = params;
  const histogram = createLatencyHistogram();
  const byKind = Object.fromEntries(
    OPERATION_KINDS.map((k) => [k, createLatencyHistogram()]),
  ) as Record<OperationKind, Histogram>;
  const mix = emptyMix();
  const errors: Record<string, number> = {};
  const errorSamples: Record<string, string> = {};
  let issued = 0;
  const limit = "operations" in budget ? budget.operations : Number.POSITIVE_INFINITY;
  const started = performance.now();
  const deadline = "durationMs" in budget ? started + budget.durationMs : Number.POSITIVE_INFINITY;
  let finished = started;

  const worker = async (index: number) => {
    const conn = target.connection(index);
    while (issued < limit && !signal?.aborted) {
      const t0 = performance.now();
      if (t0 >= deadline) break;
      issued++;
      const op = generator.next();
      mix[op.kind]++;
      try {
        await execute(conn, op.kind, keyName(op.item), values[op.value]!);
        const t1 = performance.now();
        recordMillis(histogram, t1 - t0);
        recordMillis(byKind[op.kind], t1 - t0);
        if (op.kind === "insert") generator.acknowledgeInsert(op.item);
        progress.completed++;
        if (t1 > finished) finished = t1;
      } catch (e) {
        const kind = errorKind(e);
        errors[kind] = (errors[kind] ?? 0) + 1;
        errorSamples[kind] ??= e instanceof Error ? e.message : String(e);
        progress.failed++;
        const t1 = performance.now();
        if (t1 > finished) finished = t1;
      }
    }
  };
  await Promise.all(Array.from({ length: params.concurrency }, (_, i) => worker(i)));
  return {
    operations: histogram.totalCount,
    durationMs: Math.max(finished - started, 0.001),
    histogram,
    byKind,
    mix,
    errors,
    errorSamples,
  };
}

export interface LoadResult {
  operations: number;
  durationMs: number;
  errors: Record<string, number>;
  errorSamples: Record<string, string>;
}

/** Inserts items 0..keyCount-1 (YCSB's load phase), `concurrency` at a time. */
export async function loadKeys(
  target: RunningTarget,
  keyCount: number,
  values: readonly Uint8Array[],
  concurrency: number,
  signal?: AbortSignal,
  progress: PhaseProgress = { completed: 0, failed: 0 },
): Promise<LoadResult> {
  let next = 0;
  let ok = 0;
  const errors: Record<string, number> = {};
  const errorSamples: Record<string, string> = {};
  const started = performance.now();
  const worker = async (index: number) => {
    const conn = target.connection(index);
    while (next < keyCount && !signal?.aborted) {
      const item = next++;
      try {
        await conn.put(keyName(item), values[item % values.length]!);
        ok++;
        progress.completed++;
      } catch (e) {
        const kind = errorKind(e);
        errors[kind] = (errors[kind] ?? 0) + 1;
        errorSamples[kind] ??= e instanceof Error ? e.message : String(e);
        progress.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, keyCount) }, (_, i) => worker(i)));
  return { operations: ok, durationMs: performance.now() - started, errors, errorSamples };
}
