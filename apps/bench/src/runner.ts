/**
 * One benchmark run: start the targets, load the keys, warm up, then measure in rounds that
 * alternate between the targets (round r starts with target r mod T), so drift of a shared
 * machine hits every target alike. Everything started is stopped and removed at the end,
 * also when the run fails or is aborted.
 */
import { mkdir, mkdtemp } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { CleanupRegistry } from "./cleanup.js";
import {
  loadKeys,
  type PhaseBudget,
  type PhaseProgress,
  type PhaseResult,
  runPhase,
} from "./driver.js";
import { BenchAbortedError, isTargetUnavailableError } from "./errors.js";
import { type BenchOptions, type ResolvedBenchOptions, resolveBenchOptions } from "./options.js";
import { createTerminalProgress, type ProgressView, silentProgress } from "./progress.js";
import { type BenchReport, defaultOutDir, type MachineInfo, writeReport } from "./report.js";
import { aggregateTarget, type TargetResult, validityReasons } from "./results.js";
import { startDistKV } from "./targets/distkv.js";
import { startEtcd } from "./targets/etcd.js";
import { startRedis } from "./targets/redis.js";
import type { RunningTarget, StartContext, TargetName } from "./targets/target.js";
import { makeValuePool, WORKLOADS, WorkloadGenerator } from "./workload.js";

const VALUE_POOL_SIZE = 256;

/** Starts one target; a missing binary throws TargetUnavailableError. */
export function startTarget(
  name: TargetName,
  options: ResolvedBenchOptions,
  ctx: StartContext,
): Promise<RunningTarget> {
  switch (name) {
    case "distkv":
      return startDistKV(options.distkv, ctx);
    case "etcd":
      return startEtcd(options.etcd, ctx);
    case "redis":
      return startRedis(options.redis, ctx);
  }
}

function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.versions.node,
    platform: `${process.platform} ${process.arch}`,
    loadAverageStart: loadavg().map((x) => Math.round(x * 100) / 100),
    loadAverageEnd: [],
  };
}

/** Runs a phase while feeding the progress bar. */
async function phaseWithProgress(
  run: (p: PhaseProgress) => Promise<PhaseResult>,
  progress: ProgressView,
  label: string,
  budget: PhaseBudget,
): Promise<PhaseResult> {
  const counters: PhaseProgress = { completed: 0, failed: 0 };
  const started = performance.now();
  const isTime = "durationMs" in budget;
  progress.phase(label, isTime ? budget.durationMs : budget.operations, isTime ? "ms" : "ops");
  const timer = setInterval(() => {
    const elapsed = performance.now() - started;
    progress.update(
      isTime ? Math.min(elapsed, budget.durationMs) : counters.completed + counters.failed,
      (counters.completed / Math.max(elapsed, 1)) * 1000,
    );
  }, 200);
  try {
    return await run(counters);
  } finally {
    clearInterval(timer);
  }
}

interface Started {
  target: RunningTarget;
  generator: WorkloadGenerator;
  load: Awaited<ReturnType<typeof loadKeys>>;
  phases: { round: number; position: number; result: PhaseResult }[];
}

/**
 * Measures already started targets (the smoke tests share one server this way): load, warm-up
 * and interleaved rounds. Returns per-target results and the validity reasons.
 */
export async function measureTargets(
  targets: readonly RunningTarget[],
  options: ResolvedBenchOptions,
  progress: ProgressView = silentProgress,
): Promise<{ results: TargetResult[]; reasons: string[] }> {
  const signal = options.signal;
  const values = makeValuePool(VALUE_POOL_SIZE, options.valueBytes, options.seed);
  const runs: Started[] = [];
  for (const target of targets) {
    const counters: PhaseProgress = { completed: 0, failed: 0 };
    progress.phase(`load ${target.name}`, options.keyCount, "ops");
    const timer = setInterval(() => progress.update(counters.completed, 0), 200);
    let load: Started["load"];
    try {
      load = await loadKeys(
        target,
        options.keyCount,
        values,
        options.concurrency,
        signal,
        counters,
      );
    } finally {
      clearInterval(timer);
    }
    if (signal?.aborted) throw new BenchAbortedError();
    options.log(
      `${target.label}: loaded ${load.operations} keys in ${(load.durationMs / 1000).toFixed(1)} s`,
    );
    const generator = new WorkloadGenerator({
      workload: options.workload,
      distribution: options.distribution,
      keyCount: options.keyCount,
      seed: options.seed,
      valuePoolSize: VALUE_POOL_SIZE,
    });
    runs.push({ target, generator, load, phases: [] });
  }
  const length = options.length;
  const warmup: PhaseBudget =
    length.kind === "duration"
      ? { durationMs: length.warmupMs }
      : { operations: length.warmupOperations };
  const hasWarmup = "durationMs" in warmup ? warmup.durationMs > 0 : warmup.operations > 0;
  if (hasWarmup) {
    for (const run of runs) {
      await phaseWithProgress(
        (p) =>
          runPhase(
            {
              target: run.target,
              generator: run.generator,
              values,
              concurrency: options.concurrency,
              budget: warmup,
              signal,
            },
            p,
          ),
        progress,
        `warm-up ${run.target.name}`,
        warmup,
      );
      if (signal?.aborted) throw new BenchAbortedError();
    }
  }
  for (let round = 0; round < options.rounds; round++) {
    const budget: PhaseBudget =
      length.kind === "duration"
        ? { durationMs: length.perRoundMs }
        : { operations: length.perRound[round]! };
    for (let position = 0; position < runs.length; position++) {
      const run = runs[(round + position) % runs.length]!;
      const result = await phaseWithProgress(
        (p) =>
          runPhase(
            {
              target: run.target,
              generator: run.generator,
              values,
              concurrency: options.concurrency,
              budget,
              signal,
            },
            p,
          ),
        progress,
        `round ${round + 1}/${options.rounds} ${run.target.name}`,
        budget,
      );
      if (signal?.aborted) throw new BenchAbortedError();
      run.phases.push({ round, position, result });
    }
  }
  progress.stop();
  const results = runs.map((r) =>
    aggregateTarget(
      {
        name: r.target.name,
        label: r.target.label,
        version: r.target.version,
        settings: r.target.settings,
      },
      r.load,
      r.phases,
    ),
  );
  return {
    results,
    reasons: validityReasons(results, WORKLOADS[options.workload], length, []),
  };
}

/**
 * The whole run: starts every target (a target whose server binary is missing is skipped, and
 * the report says which package installs it), measures, stops and removes everything, writes
 * the JSON and the chart unless `outDir` is null, and returns the report.
 */
export async function runBenchmark(input: BenchOptions = {}): Promise<BenchReport> {
  const resolved = resolveBenchOptions(input);
  const progress = resolved.progress ? createTerminalProgress() : silentProgress;
  // Log lines would otherwise be drawn over by the bar.
  const options: ResolvedBenchOptions = {
    ...resolved,
    log: (line) => {
      progress.interrupt();
      resolved.log(line);
    },
  };
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const cleanup = options.cleanup ?? new CleanupRegistry(options.log);
  const skipped: BenchReport["skipped"] = [];
  let results: TargetResult[] = [];
  let reasons: string[] = [];
  try {
    const root = await mkdtemp(join(tmpdir(), "distkv-bench-"));
    cleanup.addDir(root);
    const targets: RunningTarget[] = [];
    for (const name of options.targets) {
      if (options.signal?.aborted) throw new BenchAbortedError();
      const own = new CleanupRegistry(options.log);
      cleanup.addChild(own);
      const ctx: StartContext = {
        dataDir: join(root, name),
        cleanup: own,
        log: options.log,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      };
      await mkdir(ctx.dataDir, { recursive: true });
      try {
        const target = await startTarget(name, options, ctx);
        // Registered last, so released first: clients close before their servers stop.
        own.add(`${name} clients`, () => target.stop());
        targets.push(target);
      } catch (e) {
        if (!isTargetUnavailableError(e)) throw e;
        options.log(`skipping ${name}: ${e.message}; install it with: ${e.installHint}`);
        skipped.push({ target: name, reason: e.message, install: e.installHint });
      }
    }
    ({ results, reasons } = await measureTargets(targets, options, progress));
  } finally {
    progress.stop();
    await cleanup.runAll();
  }
  machine.loadAverageEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  const allReasons = [...skipped.map((s) => `${s.target} was skipped: ${s.reason}`), ...reasons];
  const workload = WORKLOADS[options.workload];
  const length = options.length;
  const report: BenchReport = {
    tool: "distkv-bench",
    startedAt,
    finishedAt: new Date().toISOString(),
    valid: allReasons.length === 0,
    reasons: allReasons,
    config: {
      workload: options.workload,
      description: workload.description,
      proportions: { ...workload.proportions },
      distribution: workload.readsLatest ? "latest" : options.distribution,
      keyCount: options.keyCount,
      valueBytes: options.valueBytes,
      concurrency: options.concurrency,
      rounds: options.rounds,
      mode: length.kind,
      perRound: length.kind === "duration" ? length.perRoundMs : length.perRound,
      warmup: length.kind === "duration" ? length.warmupMs : length.warmupOperations,
      seed: options.seed,
    },
    machine,
    targets: results,
    skipped,
  };
  const outDir = options.outDir === undefined ? defaultOutDir() : options.outDir;
  if (outDir !== null) await writeReport(report, outDir, options.chart);
  return report;
}
