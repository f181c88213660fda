import type { ResolvedSimulationOptions } from "./options.js";
import {
  SIMULATION_ANOMALY_KINDS,
  type SimulationAnomalyKind,
  type SimulationResult,
} from "./simulation.js";

/** Totals over many seeds. */
export interface SeedsSummary {
  seeds: number;
  failedSeeds: number[];
  /** Client operations recorded (set adds, register reads, writes, deletes), final reads excluded. */
  operations: number;
  /** Of those, acknowledged (`ok`). */
  acknowledged: number;
  /** Crashes, restarts, partitions, weather periods, bad links and disk faults. */
  faults: number;
  /** Messages the network dropped, duplicated or cut by a partition. */
  messageFaults: number;
  anomalies: Record<SimulationAnomalyKind, number>;
  simulatedMs: number;
  events: number;
  wallMs: number;
}

export function emptySummary(): SeedsSummary {
  const anomalies = {} as Record<SimulationAnomalyKind, number>;
  for (const k of SIMULATION_ANOMALY_KINDS) anomalies[k] = 0;
  return {
    seeds: 0,
    failedSeeds: [],
    operations: 0,
    acknowledged: 0,
    faults: 0,
    messageFaults: 0,
    anomalies,
    simulatedMs: 0,
    events: 0,
    wallMs: 0,
  };
}

/** Adds one seed's result to `summary`. */
export function addResult(summary: SeedsSummary, r: SimulationResult): void {
  summary.seeds++;
  if (!r.ok) summary.failedSeeds.push(r.options.seed);
  const clientOps = r.history.filter((op) => op.process !== "final");
  summary.operations += clientOps.length;
  summary.acknowledged += clientOps.filter((op) => op.outcome === "ok").length;
  const f = r.faults;
  summary.faults += f.crashes + f.restarts + f.partitions + f.weather + f.badLinks + f.diskFaults;
  summary.messageFaults += r.network.dropped + r.network.duplicated + r.network.partitioned;
  for (const k of SIMULATION_ANOMALY_KINDS) summary.anomalies[k] += r.counts[k];
  summary.simulatedMs += r.simulatedMs;
  summary.events += r.events;
  summary.wallMs += r.wallMs;
}

/**
 * The one-line command that reruns exactly this seed with these options (options at their
 * defaults are left out).
 */
export function reproduceCommand(o: ResolvedSimulationOptions): string {
  const parts = [`pnpm simulate --seeds 1 --from ${o.seed}`];
  parts.push(`--ops ${o.operations}`, `--nodes ${o.nodes}`);
  if (o.conflictPolicy !== "siblings") parts.push(`--policy ${o.conflictPolicy}`);
  if (!o.syncWrites) parts.push("--no-sync");
  if (!o.faults) parts.push("--no-faults");
  return `${parts.join(" ")} --verbose`;
}

/** One line per seed: seed, verdict, operations, faults, time, trace hash. */
export function formatResultLine(r: SimulationResult): string {
  const ops = r.history.filter((op) => op.process !== "final");
  const ok = ops.filter((op) => op.outcome === "ok").length;
  const f = r.faults;
  const verdict = r.ok
    ? "ok"
    : `FAIL (${Object.entries(r.counts)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ")})`;
  return (
    `seed ${r.options.seed}: ${verdict} | ${ops.length} ops (${ok} ok) | ` +
    `${f.crashes} crashes, ${f.partitions} partitions, ${f.weather + f.badLinks} link faults, ${f.diskFaults} disk faults, ` +
    `${r.network.dropped + r.network.duplicated + r.network.partitioned} messages hit | ` +
    `${(r.simulatedMs / 1000).toFixed(1)} s simulated, ${r.events} events, ${r.wallMs.toFixed(0)} ms | trace ${r.traceHash}`
  );
}

/** A failing seed's details: every anomaly, then the command that reproduces it. */
export function formatFailure(r: SimulationResult, maxAnomalies = 20): string {
  const lines = [`seed ${r.options.seed} FAILED with ${r.anomalies.length} anomalies:`];
  for (const a of r.anomalies.slice(0, maxAnomalies)) lines.push(`  [${a.kind}] ${a.message}`);
  if (r.anomalies.length > maxAnomalies) {
    lines.push(`  ... ${r.anomalies.length - maxAnomalies} more`);
  }
  lines.push(`reproduce: ${reproduceCommand(r.options)}`);
  return lines.join("\n");
}

/** The figures of a batch of seeds. */
export function formatSummary(s: SeedsSummary): string {
  const anomalyTotal = Object.values(s.anomalies).reduce((a, b) => a + b, 0);
  const byKind = Object.entries(s.anomalies)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  const perSeed = s.seeds === 0 ? 0 : s.wallMs / s.seeds;
  return [
    `seeds run: ${s.seeds} (${s.failedSeeds.length} failed${s.failedSeeds.length > 0 ? `: ${s.failedSeeds.slice(0, 20).join(", ")}` : ""})`,
    `simulated operations: ${s.operations} (${s.acknowledged} acknowledged)`,
    `faults injected: ${s.faults} (crashes, restarts, partitions, link and disk faults) + ${s.messageFaults} messages dropped, duplicated or cut`,
    `anomalies: ${anomalyTotal}${byKind === "" ? "" : ` (${byKind})`}`,
    `simulated time: ${(s.simulatedMs / 1000).toFixed(0)} s, ${s.events} events; wall time ${(s.wallMs / 1000).toFixed(1)} s (${perSeed.toFixed(0)} ms per seed)`,
  ].join("\n");
}
