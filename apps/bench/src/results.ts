/** A target's results put together from its rounds, and the checks that make a run valid. */
import type { LoadResult, PhaseResult } from "./driver.js";
import { type LatencySummary, mergeHistograms, summarize } from "./latency.js";
import type { RunLength } from "./options.js";
import type { TargetName, TargetVersion } from "./targets/target.js";
import { OPERATION_KINDS, type OperationKind, type WorkloadDefinition } from "./workload.js";

export interface RoundResult {
  round: number;
  /** Position of this target in the round's order (0 = ran first). */
  position: number;
  operations: number;
  durationMs: number;
  throughput: number;
  p99Ms: number;
}

export interface TargetResult {
  name: TargetName;
  label: string;
  version: TargetVersion;
  settings: Readonly<Record<string, string | number | boolean>>;
  load: {
    operations: number;
    durationMs: number;
    throughput: number;
    errors: Record<string, number>;
  };
  /** Successful measured operations over all rounds. */
  operations: number;
  /** Measured time over all rounds, ms. */
  durationMs: number;
  /** operations / durationMs, per second. */
  throughput: number;
  latency: LatencySummary;
  latencyByKind: Partial<Record<OperationKind, LatencySummary>>;
  mix: Record<OperationKind, number>;
  errors: Record<string, number>;
  errorSamples: Record<string, string>;
  rounds: RoundResult[];
}

export function roundResult(round: number, position: number, r: PhaseResult): RoundResult {
  return {
    round,
    position,
    operations: r.operations,
    durationMs: Math.round(r.durationMs * 1000) / 1000,
    throughput: Math.round((r.operations / r.durationMs) * 1000 * 10) / 10,
    p99Ms: summarize(r.histogram).p99Ms,
  };
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Sums a target's rounds: throughput is total operations over total measured time. */
export function aggregateTarget(
  info: Pick<TargetResult, "name" | "label" | "version" | "settings">,
  load: LoadResult,
  phases: readonly { round: number; position: number; result: PhaseResult }[],
): TargetResult {
  const operations = phases.reduce((s, p) => s + p.result.operations, 0);
  const durationMs = phases.reduce((s, p) => s + p.result.durationMs, 0);
  const mix: Record<OperationKind, number> = { read: 0, update: 0, insert: 0, rmw: 0 };
  const errors: Record<string, number> = {};
  const errorSamples: Record<string, string> = {};
  for (const p of phases) {
    addCounts(mix, p.result.mix);
    addCounts(errors, p.result.errors);
    for (const [k, v] of Object.entries(p.result.errorSamples)) errorSamples[k] ??= v;
  }
  const all = mergeHistograms(phases.map((p) => p.result.histogram));
  const latencyByKind: Partial<Record<OperationKind, LatencySummary>> = {};
  for (const kind of OPERATION_KINDS) {
    if (mix[kind] === 0) continue;
    latencyByKind[kind] = summarize(mergeHistograms(phases.map((p) => p.result.byKind[kind])));
  }
  for (const [k, v] of Object.entries(load.errorSamples)) errorSamples[`load ${k}`] ??= v;
  return {
    ...info,
    load: {
      operations: load.operations,
      durationMs: Math.round(load.durationMs),
      throughput: Math.round((load.operations / Math.max(load.durationMs, 0.001)) * 1000),
      errors: load.errors,
    },
    operations,
    durationMs: Math.round(durationMs * 1000) / 1000,
    throughput: durationMs > 0 ? Math.round((operations / durationMs) * 1000 * 10) / 10 : 0,
    latency: summarize(all),
    latencyByKind,
    mix,
    errors,
    errorSamples,
    rounds: phases.map((p) => roundResult(p.round, p.position, p.result)),
  };
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((s, v) => s + v, 0);
}

/**
 * How far an observed share of `n` draws may sit from the configured share `p` before the mix
 * counts as different: 5 standard errors, and never less than 0.5 percentage points.
 */
export function mixTolerance(p: number, n: number): number {
  return Math.max(0.005, 5 * Math.sqrt((p * (1 - p)) / Math.max(n, 1)));
}

/**
 * Why a run is not valid (empty when it is): an error on any target (load or measured), a
 * target that measured nothing, a target that was skipped, or a target whose operation mix
 * differs from the configured mix (duration mode) or from the other targets' mixes
 * (operations mode, where every target runs the same sequence).
 */
export function validityReasons(
  results: readonly TargetResult[],
  workload: WorkloadDefinition,
  length: RunLength,
  skipped: readonly { target: string; reason: string }[],
): string[] {
  const reasons: string[] = [];
  for (const s of skipped) reasons.push(`${s.target} was skipped: ${s.reason}`);
  for (const r of results) {
    const loadErrors = total(r.load.errors);
    if (loadErrors > 0) {
      reasons.push(
        `${r.label}: ${loadErrors} errors in the load phase (${describe(r.load.errors)})`,
      );
    }
    const errors = total(r.errors);
    if (errors > 0) reasons.push(`${r.label}: ${errors} errors (${describe(r.errors)})`);
    if (r.operations === 0) reasons.push(`${r.label}: no operation completed`);
    const issued = total(r.mix);
    for (const kind of OPERATION_KINDS) {
      const p = workload.proportions[kind];
      const observed = issued === 0 ? 0 : r.mix[kind] / issued;
      if (Math.abs(observed - p) > mixTolerance(p, issued)) {
        reasons.push(
          `${r.label}: ${kind} share ${(observed * 100).toFixed(2)}% differs from the configured ${(p * 100).toFixed(2)}%`,
        );
      }
    }
  }
  if (length.kind === "operations" && results.length > 1) {
    const first = results[0]!;
    for (const r of results.slice(1)) {
      for (const kind of OPERATION_KINDS) {
        if (r.mix[kind] !== first.mix[kind]) {
          reasons.push(
            `${r.label} issued ${r.mix[kind]} ${kind} operations, ${first.label} ${first.mix[kind]}: the sequences differ`,
          );
        }
      }
    }
  }
  return reasons;
}

function describe(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
}
