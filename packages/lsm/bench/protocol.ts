/** Messages between lsm-bench (the parent) and bench-child (one engine). */

import type { EngineName } from "./engines.js";

/** In the order they run; reads use the database fillrandom loaded (and overwrite updated). */
export const WORKLOADS = [
  "fillseq",
  "fillrandom",
  "overwrite",
  "readrandom-cold",
  "readrandom-hot",
  "readmissing",
  "seekrandom-10",
  "batch-1000",
  "sync-put-1",
  "sync-put-64",
] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface Result {
  engine: EngineName;
  workload: WorkloadName;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /**
   * CPU time of the engine's process (all threads: LevelDB's thread pool and compaction thread
   * count too) per operation. Less sensitive than ops/s to other work on the machine.
   */
  cpuUsPerOp: number;
  /** Wall time of the measured loops. */
  seconds: number;
  /** The process's peak RSS so far, after this workload. */
  peakRssMb: number;
}

/** Run part `part` (0-based) of `parts` of a workload; results are over all parts so far. */
export type ParentMessage =
  | { type: "run"; workload: WorkloadName; part: number; parts: number }
  | { type: "finish" };

export type ChildReply =
  | { type: "ready" }
  | { type: "result"; result: Result }
  | {
      type: "finished";
      /** Peak resident set size of the whole child process (getrusage maxrss). */
      peakRssMb: number;
      /** The same, measured when the child had loaded its modules and nothing else. */
      baselineRssMb: number;
      writeAmplification: number | null;
      /** How long background work took to finish after a workload, by workload. */
      settleMs: Partial<Record<WorkloadName, number>>;
    }
  | { type: "error"; message: string };
