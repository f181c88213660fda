/**
 * The peer comparisons the benchmark issue asks for, as one command (`--suite=peers`):
 * 3 DistKV nodes (N=3, R=2, W=2) against 3 etcd nodes on workloads A and C, and one DistKV
 * node (N=1) against Redis on workload C; 64 in flight, 100-byte values. Each comparison is
 * its own run with its own JSON and chart; the suite adds the goals and whether they were met.
 */
import type { BenchOptions } from "./options.js";
import { type BenchReport, ratios } from "./report.js";
import { runBenchmark } from "./runner.js";

export interface SuiteGoal {
  /** DistKV throughput over the peer's must reach this. */
  minThroughputRatio: number;
  /** DistKV's p99 must not exceed the peer's. */
  p99NoWorse: boolean;
}

export interface SuiteEntry {
  title: string;
  options: BenchOptions;
  goal: SuiteGoal;
}

export const PEER_SUITE: readonly SuiteEntry[] = [
  {
    title: "3 DistKV nodes (N=3 R=2 W=2) vs 3 etcd nodes, workload A",
    options: {
      targets: ["distkv", "etcd"],
      workload: "a",
      distkv: { nodes: 3, replicas: 3, readQuorum: 2, writeQuorum: 2 },
      etcd: { nodes: 3 },
    },
    goal: { minThroughputRatio: 3, p99NoWorse: true },
  },
  {
    title: "3 DistKV nodes (N=3 R=2 W=2) vs 3 etcd nodes, workload C",
    options: {
      targets: ["distkv", "etcd"],
      workload: "c",
      distkv: { nodes: 3, replicas: 3, readQuorum: 2, writeQuorum: 2 },
      etcd: { nodes: 3 },
    },
    goal: { minThroughputRatio: 3, p99NoWorse: true },
  },
  {
    title: "1 DistKV node (N=1) vs Redis (AOF everysec), workload C",
    options: {
      targets: ["distkv", "redis"],
      workload: "c",
      distkv: { nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1 },
    },
    goal: { minThroughputRatio: 0.5, p99NoWorse: false },
  },
];

export interface GoalVerdict {
  peer: string;
  throughputRatio: number;
  throughputMet: boolean;
  p99RatioPeerOverDistkv: number;
  p99Met: boolean | undefined;
}

/** DistKV (the first target) against each other target of a run, by the entry's goal. */
export function judge(report: BenchReport, goal: SuiteGoal): GoalVerdict[] {
  const [base, ...peers] = report.targets;
  if (base === undefined) return [];
  return peers.map((peer) => {
    const r = ratios(peer, base);
    const throughputRatio = r.throughput > 0 ? 1 / r.throughput : 0;
    return {
      peer: peer.label,
      throughputRatio,
      throughputMet: throughputRatio >= goal.minThroughputRatio,
      p99RatioPeerOverDistkv: r.p99,
      p99Met: goal.p99NoWorse ? base.latency.p99Ms <= peer.latency.p99Ms : undefined,
    };
  });
}

export function formatVerdicts(entry: SuiteEntry, verdicts: readonly GoalVerdict[]): string {
  return verdicts
    .map((v) => {
      const parts = [
        `distkv/${v.peer} throughput ${v.throughputRatio.toFixed(2)}x (goal >= ${entry.goal.minThroughputRatio}x: ${v.throughputMet ? "met" : "NOT met"})`,
      ];
      if (v.p99Met !== undefined) {
        parts.push(
          `p99 ${v.peer}/distkv ${v.p99RatioPeerOverDistkv.toFixed(2)}x (goal: distkv p99 no worse: ${v.p99Met ? "met" : "NOT met"})`,
        );
      }
      return parts.join("; ");
    })
    .join("\n");
}

/** Runs every entry with `common` options (length, seed, out dir...) layered under it. */
export async function runSuite(
  entries: readonly SuiteEntry[],
  common: BenchOptions,
  onReport: (entry: SuiteEntry, report: BenchReport, verdicts: GoalVerdict[]) => void,
): Promise<{ entry: SuiteEntry; report: BenchReport; verdicts: GoalVerdict[] }[]> {
  const out = [];
  for (const entry of entries) {
    const report = await runBenchmark({
      ...common,
      ...entry.options,
      distkv: { ...common.distkv, ...entry.options.distkv },
      etcd: { ...common.etcd, ...entry.options.etcd },
      redis: { ...common.redis, ...entry.options.redis },
    });
    const verdicts = judge(report, entry.goal);
    onReport(entry, report, verdicts);
    out.push({ entry, report, verdicts });
  }
  return out;
}
