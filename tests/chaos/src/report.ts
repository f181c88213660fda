import { describeOperation, formatReport, type LinearizabilityResult } from "@distkv/history";
import type { ChaosResult } from "./run.js";

type Figures = Omit<ChaosResult, "text">;

/**
 * Anomalies of a run by kind: the history checkers' (linearizability, sets, sessions), the
 * deadline check's (`late`, `unfinished`), and the run's own: `resurrected` (a deleted value
 * came back), `diverged` (replicas still differ after the convergence wait), `hints-left`
 * (hint queues not empty after the wait) and `final-read-failed` (a key could not be read at
 * `all` after healing).
 */
export function chaosAnomalies(r: Figures): Record<string, number> {
  const out: Record<string, number> = { ...r.report.anomalies };
  out.late = r.deadlines.counts.late;
  out.unfinished = r.deadlines.counts.unfinished;
  out.resurrected = r.tombstones?.resurrected.length ?? 0;
  out.diverged = r.convergence.diverged.length;
  out["hints-left"] = [...r.hints.pending.values()].reduce(
    (a, n) => a + (Number.isNaN(n) ? 1 : n),
    0,
  );
  out["final-read-failed"] = r.finalReads.failed.length;
  return out;
}

/** Which faults were active between `from` and `to` (run clock), in words. */
export function faultsAround(r: Pick<Figures, "faults">, from: number, to: number): string {
  const active = r.faults.events.filter(
    (e) => e.startMs <= to && (e.endMs ?? Number.POSITIVE_INFINITY) >= from,
  );
  if (active.length > 0) {
    return `during ${active.map((e) => `${e.kind} ${e.detail} [${s(e.startMs)} - ${e.endMs === null ? "?" : s(e.endMs)}]`).join("; ")}`;
  }
  const before = r.faults.events.filter((e) => e.endMs !== null && e.endMs < from).at(-1);
  return before === undefined
    ? "no fault before it"
    : `no fault active; ${s(from - before.endMs!)} after ${before.kind} ${before.detail} healed`;
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function linLine(l: LinearizabilityResult): string {
  const ok = l.keys.filter((k) => k.verdict === "ok").length;
  const bad = l.keys.filter((k) => k.verdict === "violation").length;
  return `${l.keys.length} keys, ${l.operations} operations: ${ok} linearizable, ${bad} not, ${l.counts.unknownKeys} unknown | nonlinearizable ${l.counts.nonlinearizable}, sibling-read ${l.counts["sibling-read"]}, unwritten-value ${l.counts["unwritten-value"]}`;
}

/** The report a run prints: configuration, faults, operations, healing, every checker, anomalies. */
export function formatChaosReport(r: Figures): string {
  const o = r.options;
  const lines: string[] = [];
  const offsets = [...r.initialOffsetsMs].map(([id, ms]) => `${id} ${ms > 0 ? "+" : ""}${ms} ms`);
  lines.push(
    `chaos run "${o.name}": seed ${o.seed}, ${o.nodes} nodes (N=${o.replicas}), policy ${o.conflictPolicy}, workload ${o.seconds} s (first ${o.calmSeconds} s without faults), request deadline ${o.deadlineMs} ms; cluster up in ${s(r.startupMs)}, took ${s(r.elapsedMs)} in all (times below: since the workload started)`,
  );
  lines.push(`clock offsets at start: ${offsets.length === 0 ? "none" : offsets.join(", ")}`);
  const c = r.faults.counts;
  lines.push(
    `faults injected: ${r.faults.events.length} (partition ${c.partition}, kill ${c.kill}, pause ${c.pause}, skew ${c.skew}); ${r.faults.droppedCalls} peer calls dropped by link faults${r.faults.errors.length > 0 ? `; nemesis errors: ${r.faults.errors.join("; ")}` : ""}`,
  );
  if (r.faults.restartMs.length > 0) {
    const restarts = [...r.faults.restartMs].sort((a, b) => a - b);
    lines.push(
      `restarts: ${restarts.length}, until listening: median ${restarts[Math.floor(restarts.length / 2)]!.toFixed(0)} ms, max ${restarts[restarts.length - 1]!.toFixed(0)} ms`,
    );
  }
  for (const e of r.faults.events) {
    lines.push(
      `  [${s(e.startMs)} - ${e.endMs === null ? "?" : s(e.endMs)}] ${e.kind} ${e.detail}`,
    );
  }
  const secs = r.workloadEndMs / 1000;
  const byType = new Map<string, number>();
  for (const op of r.history) {
    if (op.process === "final") continue;
    byType.set(op.type, (byType.get(op.type) ?? 0) + 1);
  }
  lines.push(
    `workload: ${r.workloadOperations} operations in ${secs.toFixed(1)} s (${(r.workloadOperations / secs).toFixed(0)}/s): ${[...byType].map(([t, n]) => `${t} ${n}`).join(", ")}`,
  );
  const durations = r.history
    .filter((op) => op.process !== "final" && op.outcome === "ok" && op.completeMs !== null)
    .map((op) => op.completeMs! - op.invokeMs)
    .sort((a, b) => a - b);
  const pct = (p: number) =>
    durations.length === 0
      ? 0
      : durations[Math.min(durations.length - 1, Math.floor(p * durations.length))]!;
  lines.push(
    `latency of ok operations: p50 ${pct(0.5).toFixed(0)} ms, p99 ${pct(0.99).toFixed(0)} ms, max ${pct(1).toFixed(0)} ms`,
  );
  lines.push(
    `client errors: ${r.clientErrors.length === 0 ? "none" : r.clientErrors.map(([k, n]) => `${k} ${n}`).join(", ")}`,
  );
  for (const [, samples] of r.clientErrorSamples) {
    for (const sample of samples) lines.push(`  ${sample}`);
  }
  const pending = [...r.hints.pending].map(([id, n]) => `${id} ${n}`).join(", ");
  lines.push(
    `healing: all nodes alive everywhere after ${s(r.healMs)}; hint queues ${r.hints.drained ? "drained" : "NOT drained"} after ${s(r.hints.elapsedMs)} (${pending})`,
  );
  lines.push(
    `final reads at consistency all: ${r.finalReads.keys} keys, ${r.finalReads.failed.length} failed, ${r.finalReads.withSiblings} with siblings`,
  );
  lines.push(
    `convergence: ${r.convergence.keysChecked} keys x ${o.replicas} replicas compared, ${r.convergence.diverged.length} differ after ${r.convergence.rounds} rounds (${s(r.convergence.elapsedMs)})`,
  );
  for (const d of r.convergence.diverged.slice(0, 5)) lines.push(`  ${d.key}: ${d.difference}`);
  lines.push(formatReport(r.report, { details: 5 }).trimEnd());
  const families = r.linearizabilityByFamily;
  for (const [family, label] of [
    ["blind", "blind writes (reg-)"],
    ["context", "context writes (ctx-)"],
    ["tombstone", "tombstone keys (tomb-)"],
  ] as const) {
    const f = families[family];
    if (f.strict.keys.length === 0) continue;
    lines.push(`linearizability of ${label}: ${linLine(f.strict)}`);
    lines.push(`  with pick-one siblings: ${linLine(f.pickOne)}`);
    for (const a of f.pickOne.keys.flatMap((k) => k.anomalies).slice(0, 3)) {
      if (a.kind !== "nonlinearizable") continue;
      const from = Math.min(...a.witness.map((op) => op.invokeMs));
      const to = Math.max(...a.witness.map((op) => op.completeMs ?? op.invokeMs));
      lines.push(
        `  ${a.key}: witness of ${a.witness.length} operations; ${faultsAround(r, from, to)}`,
      );
      for (const op of a.witness.slice(0, 6)) lines.push(`    ${describeOperation(op)}`);
    }
  }
  const cs = r.calm.sessions.counts;
  lines.push(
    `calm start (${r.calm.operations} operations before the first fault): sessions ${r.calm.sessions.sessions} sessions, ${r.calm.sessions.readsChecked} reads checked, read-your-writes ${cs["read-your-writes"]}, monotonic-reads ${cs["monotonic-reads"]}; linearizability of blind writes ${linLine(r.calm.linearizability)}`,
  );
  const d = r.deadlines;
  lines.push(
    `deadlines: ${d.operations} operations checked (${r.deadlineExcluded} sent to a node while it was frozen left out), longest ${d.maxDurationMs.toFixed(0)} ms, most past its own deadline ${r.deadlineMaxOverrunMs.toFixed(0)} ms (allowed ${o.deadlineSlackMs} ms) | late ${d.counts.late}, unfinished ${d.counts.unfinished}`,
  );
  lines.push(
    `  event-loop delay of the test process during the workload: p99 ${r.clientLoopDelayMs.p99.toFixed(0)} ms, max ${r.clientLoopDelayMs.max.toFixed(0)} ms`,
  );
  for (const a of d.anomalies.slice(0, 5)) lines.push(`  [${a.kind}] ${a.message}`);
  if (r.tombstones !== null) {
    const t = r.tombstones;
    lines.push(
      `tombstones: ${t.cases} keys, ${t.checked} written, read and deleted with acknowledgement; resurrected ${t.resurrected.length}, unread ${t.unread}`,
    );
    for (const x of t.resurrected.slice(0, 5)) {
      lines.push(`  ${x.key}: deleted ${x.value} came back as ${JSON.stringify(x.finalValues)}`);
    }
  }
  const anomalies = Object.entries(chaosAnomalies(r)).filter(([, n]) => n > 0);
  lines.push(
    `anomalies: ${anomalies.length === 0 ? "none" : anomalies.map(([k, n]) => `${k} ${n}`).join(", ")}`,
  );
  return lines.join("\n");
}
