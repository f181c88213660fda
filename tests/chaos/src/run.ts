import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import {
  checkDeadlines,
  checkHistory,
  checkLinearizability,
  checkSessions,
  type DeadlineCheckResult,
  HistoryRecorder,
  type HistoryReport,
  type LinearizabilityResult,
  type Operation,
  type SessionCheckResult,
  toJSONL,
} from "@distkv/history";
import { Consistency } from "@distkv/rpc";
import { ChaosCluster } from "./cluster.js";
import {
  type ConvergenceResult,
  checkConvergence,
  type HintDrainResult,
  waitHintsDrained,
} from "./convergence.js";
import { type FaultEvent, type FaultKind, Nemesis, pauseWindows, randomSkewMs } from "./nemesis.js";
import { type ChaosOptions, type ResolvedChaosOptions, resolveChaosOptions } from "./options.js";
import { Random } from "./random.js";
import { BLIND_KEY_PREFIX, CONTEXT_KEY_PREFIX, RegisterWorkload } from "./register-workload.js";
import { formatChaosReport } from "./report.js";
import { mergeSiblings, SetWorkload } from "./set-workload.js";
import {
  checkTombstones,
  TOMBSTONE_KEY_PREFIX,
  type TombstoneCheckResult,
  TombstoneWorkload,
} from "./tombstone-workload.js";
import {
  decodeText,
  describeError,
  ErrorCounts,
  encodeText,
  sleep,
  type WorkloadContext,
} from "./workload-context.js";

/** The final reads: every key read at consistency `all` once the cluster has healed. */
export interface FinalReadSummary {
  readonly keys: number;
  /** Keys whose final read still failed after retries (their checks are `unknown`). */
  readonly failed: readonly string[];
  /** Keys whose final read returned more than one sibling (unresolved conflicts). */
  readonly withSiblings: number;
}

/** Everything a run measured and found. */
export interface ChaosResult {
  readonly options: ResolvedChaosOptions;
  /** The clock offset each node started with (ms). */
  readonly initialOffsetsMs: ReadonlyMap<string, number>;
  /** The whole history (workloads and final reads), times on the run's clock. */
  readonly history: readonly Operation[];
  /**
   * The run's clock (history and fault times) reads 0 when the workload starts; the cluster
   * came up `startupMs` before that.
   */
  readonly startupMs: number;
  /** When the calm start ended and the nemesis began (run clock). */
  readonly calmEndMs: number;
  readonly workloadEndMs: number;
  /** Operations the workload clients completed (final reads not included). */
  readonly workloadOperations: number;
  readonly faults: {
    readonly events: readonly FaultEvent[];
    readonly counts: Readonly<Record<FaultKind, number>>;
    readonly droppedCalls: number;
    readonly errors: readonly string[];
    /** How long each restart took until the node listened again (ms). */
    readonly restartMs: readonly number[];
  };
  /** Client errors by operation kind and code. */
  readonly clientErrors: readonly [string, number][];
  /** The first few client errors of each code, with their messages. */
  readonly clientErrorSamples: readonly [string, readonly string[]][];
  readonly healMs: number;
  readonly hints: HintDrainResult;
  readonly finalReads: FinalReadSummary;
  readonly convergence: ConvergenceResult;
  /** Sets, linearizability and sessions over the whole history (deadlines separately). */
  readonly report: HistoryReport;
  /**
   * Linearizability per key family (blind writes, context writes, tombstone keys), with sibling
   * reads as violations (`strict`) and accepted when one sibling fits (`pickOne`).
   */
  readonly linearizabilityByFamily: Readonly<
    Record<
      KeyFamily,
      { readonly strict: LinearizabilityResult; readonly pickOne: LinearizabilityResult }
    >
  >;
  /** Sessions, and linearizability of blind keys, on the calm start only (before any fault). */
  readonly calm: {
    readonly operations: number;
    readonly sessions: SessionCheckResult;
    readonly linearizability: LinearizabilityResult;
  };
  /** Deadlines of every operation except those sent to a node while it was frozen. */
  readonly deadlines: DeadlineCheckResult;
  readonly deadlineExcluded: number;
  /** The longest time a checked operation ran past its own deadline (0 if none did). */
  readonly deadlineMaxOverrunMs: number;
  /**
   * Event-loop delay of the test process during the workload (ms): when it stalls, every
   * operation in flight looks slower than the servers made it.
   */
  readonly clientLoopDelayMs: { readonly p99: number; readonly max: number };
  readonly tombstones: TombstoneCheckResult | null;
  readonly elapsedMs: number;
  /** The printed report. */
  readonly text: string;
}

const FINAL_READ_ATTEMPTS = 6;

/** The register key families: blind writes, context writes, the tombstone workload's keys. */
export type KeyFamily = "blind" | "context" | "tombstone";
export const KEY_FAMILY_PREFIX: Readonly<Record<KeyFamily, string>> = Object.freeze({
  blind: BLIND_KEY_PREFIX,
  context: CONTEXT_KEY_PREFIX,
  tombstone: TOMBSTONE_KEY_PREFIX,
});

/**
 * One chaos run: starts the cluster, runs the workloads (a calm start, then the nemesis) for
 * `seconds`, heals, waits for gossip and the hint queues, reads every key at `all`, checks that
 * the replicas converged, runs the checkers and formats the report. The cluster is always torn
 * down (processes killed, temp dir removed), also when something throws.
 */
export async function runChaos(input: ChaosOptions = {}): Promise<ChaosResult> {
  const options = resolveChaosOptions(input);
  const { log } = options;
  const t0 = performance.now();
  // Zero at the start of the workload (set below), so history and fault times read as "s into
  // the workload"; before that it counts from t0.
  let zero = t0;
  const now = () => performance.now() - zero;
  const random = new Random(options.seed);
  const ids = Array.from({ length: options.nodes }, (_, i) => `node${i + 1}`);
  const setup = random.fork("setup");
  const initialOffsetsMs = new Map<string, number>();
  for (const id of setup.shuffle(ids).slice(0, options.skewedNodes)) {
    initialOffsetsMs.set(id, randomSkewMs(setup, options.skewMs));
  }
  log(
    `chaos ${options.name}: seed ${options.seed}, ${options.nodes} nodes, policy ${options.conflictPolicy}, ${options.seconds} s`,
  );
  const cluster = await ChaosCluster.start({
    ids,
    conflictPolicy: options.conflictPolicy,
    clockOffsetsMs: initialOffsetsMs,
    logLevel: options.serverLogLevel,
  });
  try {
    await cluster.waitAllAlive(options.healTimeoutMs);
    log(`cluster up after ${(now() / 1000).toFixed(1)} s`);

    const recorder = new HistoryRecorder({ now });
    const errors = new ErrorCounts();
    let stopped = false;
    const ctx: WorkloadContext = {
      cluster,
      recorder,
      deadlineMs: options.deadlineMs,
      localTimeoutMs: options.localTimeoutMs,
      errors,
      stopped: () => stopped,
    };
    const sets =
      options.set === null ? null : new SetWorkload(ctx, options.set, random.fork("set"));
    const registers =
      options.register === null
        ? null
        : new RegisterWorkload(ctx, options.register, random.fork("register"));
    const tombstones =
      options.tombstone === null
        ? null
        : new TombstoneWorkload(ctx, options.tombstone, random.fork("tombstone"));
    const nemesis = new Nemesis(cluster, random.fork("nemesis"), {
      kinds: options.faults,
      holdMs: options.holdMs,
      pauseMs: options.pauseMs,
      gapMs: options.gapMs,
      skewMs: options.skewMs,
      replicas: options.replicas,
      now,
      log,
      pickKey: (r) => {
        const keys = [...(sets?.currentKeys() ?? []), ...(registers?.currentKeys() ?? [])];
        return keys.length === 0 ? undefined : r.pick(keys);
      },
    });

    const startupMs = now();
    zero = performance.now();
    const loopDelay = monitorEventLoopDelay({ resolution: 20 });
    loopDelay.enable();
    const running = Promise.all([sets?.run(), registers?.run(), tombstones?.run()]);
    // Awaited below; marked handled now so a client that throws early is not reported as an
    // unhandled rejection before the run gets to it.
    running.catch(() => {});
    await sleep(options.calmSeconds * 1000);
    const calmEndMs = now();
    const stopNemesis = new AbortController();
    const nemesisDone = nemesis.run(stopNemesis.signal);
    await sleep((options.seconds - options.calmSeconds) * 1000);
    // On a loaded machine a round of faults can outlast `seconds`: let it finish.
    const latest = now() + (2 * options.seconds + 120) * 1000;
    while (
      options.faults.length > 0 &&
      nemesis.roundsCompleted < options.minFaultRounds &&
      now() < latest
    ) {
      await sleep(200);
    }
    stopNemesis.abort();
    await nemesisDone;
    stopped = true;
    await running;
    const workloadEndMs = now();
    loopDelay.disable();
    const workloadOperations = recorder.size;
    log(
      `workload done: ${workloadOperations} operations in ${(workloadEndMs / 1000).toFixed(1)} s; ${nemesis.events.length} faults`,
    );

    // Heal, let gossip agree and the hints drain, then read everything at `all`.
    const healStart = now();
    await nemesis.heal();
    await cluster.waitAllAlive(options.healTimeoutMs);
    const healMs = now() - healStart;
    const hints = await waitHintsDrained(cluster, options.hintTimeoutMs);
    log(
      `healed in ${(healMs / 1000).toFixed(1)} s; hints ${hints.drained ? "drained" : "NOT drained"} after ${(hints.elapsedMs / 1000).toFixed(1)} s`,
    );

    const setKeys = new Set(sets?.keysUsed ?? []);
    const allKeys = [
      ...(sets?.keysUsed ?? []),
      ...(registers?.keysUsed ?? []),
      ...(tombstones?.keysUsed ?? []),
    ];
    const keyIndex = new Map(allKeys.map((k, i) => [k, i]));
    const readAll = async (key: string, attempt: number) => {
      // Spread the reads over the nodes; a retry goes through the next node.
      const entry = ids[(attempt + keyIndex.get(key)!) % ids.length]!;
      return {
        entry,
        res: await cluster
          .client(entry)
          .kv.get(
            { key: encodeText(key), options: { consistency: Consistency.ALL, timeoutMs: 5000 } },
            { timeoutMs: 10_000 },
          ),
      };
    };
    const finalValues = new Map<string, readonly string[]>();
    const failedFinal: string[] = [];
    let withSiblings = 0;
    await forEachLimited(allKeys, 16, async (key) => {
      for (let attempt = 0; attempt < FINAL_READ_ATTEMPTS; attempt++) {
        const op = recorder.invoke({ process: "final", key, type: "read", deadlineMs: 5000 });
        try {
          const { entry, res } = await readAll(key, attempt);
          const values = setKeys.has(key)
            ? mergeSiblings(res)
            : res.siblings.map((s) => decodeText(s.value));
          if (res.siblings.length > 1) withSiblings++;
          op.ok({ values, coordinator: entry });
          finalValues.set(key, values);
          return;
        } catch (e) {
          errors.add("final-read", e);
          op.fail(describeError(e));
          await sleep(500 * (attempt + 1));
        }
      }
      failedFinal.push(key);
    });
    log(`final reads: ${allKeys.length} keys, ${failedFinal.length} failed`);

    const convergence = await checkConvergence(cluster, allKeys, {
      replicas: options.replicas,
      timeoutMs: options.convergenceTimeoutMs,
      log,
      repair: (keys) =>
        forEachLimited(keys, 16, async (key) => {
          await readAll(key, 0).catch(() => undefined);
        }),
    });
    log(
      `convergence: ${convergence.keysChecked} keys, ${convergence.diverged.length} differ after ${convergence.rounds} rounds`,
    );

    // Checks.
    const history = recorder.history();
    const linOptions = { timeLimitMs: options.linearizabilityTimeLimitMs };
    const report = checkHistory(history, { linearizability: linOptions, deadlines: false });
    const ofFamily = (ops: readonly Operation[], f: KeyFamily) =>
      ops.filter((op) => op.key.startsWith(KEY_FAMILY_PREFIX[f]));
    const linearizabilityByFamily = Object.fromEntries(
      (Object.keys(KEY_FAMILY_PREFIX) as KeyFamily[]).map((f) => [
        f,
        {
          strict: checkLinearizability(ofFamily(history, f), linOptions),
          pickOne: checkLinearizability(ofFamily(history, f), {
            ...linOptions,
            siblingReads: "pick-one",
          }),
        },
      ]),
    ) as ChaosResult["linearizabilityByFamily"];
    const calmOps = historyAt(history, calmEndMs);
    const calm = {
      operations: calmOps.length,
      sessions: checkSessions(calmOps),
      linearizability: checkLinearizability(ofFamily(calmOps, "blind"), linOptions),
    };
    const frozen = pauseWindows(nemesis.events, workloadEndMs);
    const sentToFrozen = (op: Operation) =>
      op.coordinator !== undefined &&
      (frozen.get(op.coordinator) ?? []).some(
        ([from, to]) => op.invokeMs <= to && (op.completeMs ?? Number.POSITIVE_INFINITY) >= from,
      );
    const deadlineOps = history.filter((op) => op.process === "final" || !sentToFrozen(op));
    const deadlines = checkDeadlines(deadlineOps, {
      deadlineMs: options.deadlineMs,
      slackMs: options.deadlineSlackMs,
    });
    const tombstoneResult =
      tombstones === null ? null : checkTombstones(tombstones.cases, finalValues);

    const partial = {
      options,
      initialOffsetsMs,
      history,
      startupMs,
      calmEndMs,
      workloadEndMs,
      workloadOperations,
      faults: {
        events: nemesis.events,
        counts: nemesis.counts(),
        droppedCalls: nemesis.droppedCalls,
        errors: nemesis.errors,
        restartMs: nemesis.restartMs,
      },
      clientErrors: errors.entries(),
      clientErrorSamples: errors.samples(),
      healMs,
      hints,
      finalReads: { keys: allKeys.length, failed: failedFinal, withSiblings },
      convergence,
      report,
      linearizabilityByFamily,
      calm,
      deadlines,
      deadlineExcluded: history.length - deadlineOps.length,
      clientLoopDelayMs: {
        p99: loopDelay.percentile(99) / 1e6,
        max: loopDelay.max / 1e6,
      },
      deadlineMaxOverrunMs: deadlineOps.reduce(
        (max, op) =>
          op.completeMs === null
            ? max
            : Math.max(max, op.completeMs - op.invokeMs - (op.deadlineMs ?? options.deadlineMs)),
        0,
      ),
      tombstones: tombstoneResult,
      elapsedMs: performance.now() - t0,
    };
    const result: ChaosResult = { ...partial, text: formatChaosReport(partial) };
    if (options.outDir !== undefined) await save(result, options.outDir, cluster.logs(200));
    return result;
  } catch (e) {
    log(`chaos ${options.name} (seed ${options.seed}) failed: ${(e as Error).message}`);
    log(cluster.logs());
    throw e;
  } finally {
    await cluster.close();
  }
}

/**
 * The history as it stood at `cutMs`: operations invoked by then, those still running turned
 * into pending `info` operations (as `HistoryRecorder.history()` would have shown them).
 */
export function historyAt(history: readonly Operation[], cutMs: number): Operation[] {
  const out: Operation[] = [];
  for (const op of history) {
    if (op.invokeMs > cutMs) continue;
    if (op.completeMs !== null && op.completeMs <= cutMs) {
      out.push(op);
      continue;
    }
    const { values: _values, error: _error, ...rest } = op;
    out.push({ ...rest, outcome: "info", completeMs: null, error: "pending" });
  }
  return out;
}

async function save(result: ChaosResult, dir: string, logs: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const base = join(dir, `${result.options.name}-${result.options.seed}`);
  await writeFile(`${base}.history.jsonl`, toJSONL(result.history));
  await writeFile(`${base}.report.txt`, `${result.text}\n`);
  await writeFile(`${base}.faults.json`, `${JSON.stringify(result.faults.events, null, 1)}\n`);
  await writeFile(`${base}.nodes.log`, `${logs}\n`);
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
