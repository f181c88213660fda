/** Options of a benchmark run, their defaults, and the validator. */
import type { CleanupRegistry } from "./cleanup.js";
import { BenchOptionsError } from "./errors.js";
import type { DistKVConsistency, DistKVTargetOptions } from "./targets/distkv.js";
import type { EtcdTargetOptions } from "./targets/etcd.js";
import type { RedisTargetOptions } from "./targets/redis.js";
import { TARGET_NAMES, type TargetName } from "./targets/target.js";
import { type KeyDistribution, WORKLOAD_NAMES, type WorkloadName } from "./workload.js";

export const DEFAULT_KEY_COUNT = 10_000;
export const DEFAULT_VALUE_BYTES = 100;
export const DEFAULT_CONCURRENCY = 64;
export const DEFAULT_DURATION_MS = 20_000;
export const DEFAULT_ROUNDS = 5;
export const DEFAULT_WARMUP_MS = 2_000;
export const DEFAULT_SEED = 42;

export interface BenchOptions {
  /** Systems to measure, in report order (the first is the baseline of the ratios). @default ["distkv"] */
  targets?: readonly TargetName[];
  /** @default "a" */
  workload?: WorkloadName;
  /** Key choice for every workload but D (which reads the latest inserts). @default "zipfian" */
  distribution?: KeyDistribution;
  /** Keys inserted by the load phase. @default 10000 */
  keyCount?: number;
  /** @default 100 */
  valueBytes?: number;
  /** Requests in flight (closed loop: each of this many workers waits for its reply). @default 64 */
  concurrency?: number;
  /**
   * Measured time per target, split evenly over the rounds. Give this or `operations`.
   * @default 20000
   */
  durationMs?: number;
  /** Measured operations per target, split over the rounds; every target then runs the exact same sequence. */
  operations?: number;
  /** Rounds; each round runs every target once, starting with a different target each round. @default 5 */
  rounds?: number;
  /** Unrecorded run per target before the rounds, in duration mode. @default 2000 */
  warmupMs?: number;
  /** Unrecorded operations per target before the rounds, in operations mode. @default operations / 10 */
  warmupOperations?: number;
  /** Seeds keys, kinds and values; the same for every target. @default 42 */
  seed?: number;
  distkv?: Partial<DistKVTargetOptions>;
  etcd?: Partial<EtcdTargetOptions>;
  redis?: Partial<RedisTargetOptions>;
  /** Where the JSON (and chart) go; null writes no files. @default "<repo>/bench-results" */
  outDir?: string | null;
  /** Write an SVG chart next to the JSON (and a PNG if rsvg-convert is installed). @default true */
  chart?: boolean;
  /** Show a progress bar (only ever on a TTY). @default process.stdout.isTTY */
  progress?: boolean;
  /** Progress messages (targets starting, skipped). @default writes to stderr */
  log?: (line: string) => void;
  /** Stops the run (Ctrl-C); everything started is stopped and removed. */
  signal?: AbortSignal;
  /** Registry the run's processes and dirs go to; main.ts shares it with its signal handlers. */
  cleanup?: CleanupRegistry;
}

export type RunLength =
  | { kind: "duration"; perRoundMs: number; warmupMs: number }
  | { kind: "operations"; perRound: readonly number[]; warmupOperations: number };

export interface ResolvedBenchOptions {
  readonly targets: readonly TargetName[];
  readonly workload: WorkloadName;
  readonly distribution: KeyDistribution;
  readonly keyCount: number;
  readonly valueBytes: number;
  readonly concurrency: number;
  readonly rounds: number;
  readonly length: RunLength;
  readonly seed: number;
  readonly distkv: Readonly<DistKVTargetOptions>;
  readonly etcd: Readonly<EtcdTargetOptions>;
  readonly redis: Readonly<RedisTargetOptions>;
  readonly outDir: string | null | undefined;
  readonly chart: boolean;
  readonly progress: boolean;
  readonly log: (line: string) => void;
  readonly signal: AbortSignal | undefined;
  readonly cleanup: CleanupRegistry | undefined;
}

function positiveInt(name: string, v: number | undefined, dflt: number, max = 2 ** 31): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < 1 || x > max) {
    throw new BenchOptionsError(`${name} must be an integer in 1..${max}, got ${x}`);
  }
  return x;
}

function nonNegativeInt(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < 0) {
    throw new BenchOptionsError(`${name} must be a non-negative integer, got ${x}`);
  }
  return x;
}

const CONSISTENCIES: readonly DistKVConsistency[] = ["default", "one", "quorum", "all"];

function resolveDistKV(o: Partial<DistKVTargetOptions>, concurrency: number): DistKVTargetOptions {
  const nodes = positiveInt("distkv.nodes", o.nodes, 3, 64);
  const replicas = positiveInt("distkv.replicas", o.replicas, Math.min(3, nodes), nodes);
  const majority = Math.floor(replicas / 2) + 1;
  const readQuorum = positiveInt("distkv.readQuorum", o.readQuorum, majority, replicas);
  const writeQuorum = positiveInt("distkv.writeQuorum", o.writeQuorum, majority, replicas);
  const consistency = o.consistency ?? "default";
  if (!CONSISTENCIES.includes(consistency)) {
    throw new BenchOptionsError(
      `distkv.consistency must be one of ${CONSISTENCIES.join(", ")}, got ${consistency}`,
    );
  }
  return {
    nodes,
    replicas,
    readQuorum,
    writeQuorum,
    consistency,
    connections: positiveInt("distkv.connections", o.connections, nodes, 1024),
    maxInFlight: positiveInt("distkv.maxInFlight", o.maxInFlight, Math.max(concurrency, 1)),
    ...(o.serverMain === undefined ? {} : { serverMain: o.serverMain }),
    nodeOptions: [...(o.nodeOptions ?? [])],
    serverArgs: [...(o.serverArgs ?? [])],
  };
}

/** Validates `options` and fills in defaults; throws BenchOptionsError naming the bad option. */
export function resolveBenchOptions(options: BenchOptions = {}): ResolvedBenchOptions {
  const targets = [...(options.targets ?? ["distkv"])];
  if (targets.length === 0) throw new BenchOptionsError("targets must name at least one target");
  for (const t of targets) {
    if (!TARGET_NAMES.includes(t)) {
      throw new BenchOptionsError(`unknown target "${t}" (known: ${TARGET_NAMES.join(", ")})`);
    }
  }
  if (new Set(targets).size !== targets.length) {
    throw new BenchOptionsError(`targets must not repeat: ${targets.join(",")}`);
  }
  const workload = options.workload ?? "a";
  if (!WORKLOAD_NAMES.includes(workload)) {
    throw new BenchOptionsError(
      `unknown workload "${workload}" (known: ${WORKLOAD_NAMES.join(", ")})`,
    );
  }
  const distribution = options.distribution ?? "zipfian";
  if (distribution !== "zipfian" && distribution !== "uniform") {
    throw new BenchOptionsError(`distribution must be zipfian or uniform, got ${distribution}`);
  }
  // The scrambled zipfian reduces 63-bit hashes modulo the key count in 32-bit halves.
  const keyCount = positiveInt("keyCount", options.keyCount, DEFAULT_KEY_COUNT, 2 ** 32 - 1);
  const valueBytes = positiveInt("valueBytes", options.valueBytes, DEFAULT_VALUE_BYTES, 64 << 20);
  const concurrency = positiveInt("concurrency", options.concurrency, DEFAULT_CONCURRENCY, 65_536);
  const rounds = positiveInt("rounds", options.rounds, DEFAULT_ROUNDS, 10_000);
  let length: RunLength;
  if (options.operations !== undefined && options.durationMs !== undefined) {
    throw new BenchOptionsError("give durationMs or operations, not both");
  }
  if (options.operations !== undefined) {
    const total = positiveInt("operations", options.operations, 0, Number.MAX_SAFE_INTEGER);
    if (total < rounds) {
      throw new BenchOptionsError(`operations (${total}) must be at least rounds (${rounds})`);
    }
    const base = Math.floor(total / rounds);
    const perRound = Array.from({ length: rounds }, (_, i) => base + (i < total % rounds ? 1 : 0));
    length = {
      kind: "operations",
      perRound,
      warmupOperations: nonNegativeInt(
        "warmupOperations",
        options.warmupOperations,
        Math.floor(total / 10),
      ),
    };
  } else {
    const total = positiveInt("durationMs", options.durationMs, DEFAULT_DURATION_MS, 86_400_000);
    if (total < rounds) {
      throw new BenchOptionsError(`durationMs (${total}) must be at least rounds (${rounds})`);
    }
    length = {
      kind: "duration",
      perRoundMs: total / rounds,
      warmupMs: nonNegativeInt("warmupMs", options.warmupMs, DEFAULT_WARMUP_MS),
    };
  }
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed)) throw new BenchOptionsError(`seed must be an integer, got ${seed}`);
  const etcd = options.etcd ?? {};
  const redis = options.redis ?? {};
  return Object.freeze({
    targets,
    workload,
    distribution,
    keyCount,
    valueBytes,
    concurrency,
    rounds,
    length,
    seed,
    distkv: Object.freeze(resolveDistKV(options.distkv ?? {}, concurrency)),
    etcd: Object.freeze({
      nodes: positiveInt("etcd.nodes", etcd.nodes, 3, 9),
      connections: positiveInt("etcd.connections", etcd.connections, 1, 1024),
      binary: etcd.binary ?? "etcd",
    }),
    redis: Object.freeze({
      connections: positiveInt("redis.connections", redis.connections, 1, 1024),
      autoPipelining: redis.autoPipelining ?? true,
      binary: redis.binary ?? "redis-server",
    }),
    outDir: options.outDir,
    chart: options.chart ?? true,
    progress: (options.progress ?? true) && process.stdout.isTTY === true,
    log: options.log ?? ((line: string) => process.stderr.write(`${line}\n`)),
    signal: options.signal,
    cleanup: options.cleanup,
  });
}
