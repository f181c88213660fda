import { FAULT_KINDS, type FaultKind } from "./nemesis.js";
import { randomSeed } from "./random.js";
import type { RegisterWorkloadOptions } from "./register-workload.js";
import type { SetWorkloadOptions } from "./set-workload.js";
import type { TombstoneWorkloadOptions } from "./tombstone-workload.js";

/** Default length of a run's workload phase (calm start included). */
export const DEFAULT_CHAOS_SECONDS = 30;
/** Default fault-free start of the workload, for the calm-phase checks. */
export const DEFAULT_CALM_SECONDS = 4;
/** Default deadline of each client request (the server must answer by then). */
export const DEFAULT_DEADLINE_MS = 2000;

/** Options of one chaos run; every field has a default (see {@link resolveChaosOptions}). */
export interface ChaosOptions {
  /** A label for the report. @default "chaos" */
  name?: string;
  /** Seed of every random choice (nemesis and clients). @default random, printed */
  seed?: number;
  /** Length of the workload phase in seconds, calm start included. @default 30 */
  seconds?: number;
  /** Fault-free seconds at the start of the workload. @default 4 */
  calmSeconds?: number;
  /** Server processes (ids node1..nodeN). @default 5 */
  nodes?: number;
  /** N of the servers (their default); used to find a key's replicas. @default 3 */
  replicas?: number;
  /** `-conflict-policy` of every server. @default "siblings" */
  conflictPolicy?: "siblings" | "lww";
  /** Nodes started with a clock offset (random nodes, random sign). @default 2 */
  skewedNodes?: number;
  /** Magnitude of clock offsets, [min, max] ms. @default [10000, 60000] */
  skewMs?: readonly [number, number];
  /** Fault kinds the nemesis injects; `[]` for none. @default every kind */
  faults?: readonly FaultKind[];
  /**
   * Fault rounds (every kind once) the nemesis completes at least: the workload phase runs past
   * `seconds` until then (a loaded machine restarts nodes slowly), at most 3 x `seconds` + 120 s.
   * @default 1
   */
  minFaultRounds?: number;
  /** Length of a partition or a kill, [min, max] ms. @default [2000, 4000] */
  holdMs?: readonly [number, number];
  /** Length of a pause, [min, max] ms. @default [1500, 3000] */
  pauseMs?: readonly [number, number];
  /** Quiet time between faults, [min, max] ms. @default [500, 1500] */
  gapMs?: readonly [number, number];
  /** The set workload; `null` to leave it out. @default { keys: 2, clients: 4, maxAddsPerKey: 300 } */
  set?: SetWorkloadOptions | null;
  /**
   * The register workload; `null` to leave it out. @default 4 blind and 2 context keys at a
   * time, 4 clients, 60 operations per key, 50% reads, 5% deletes
   */
  register?: RegisterWorkloadOptions | null;
  /** The tombstone workload; `null` to leave it out. @default { clients: 2 } */
  tombstone?: TombstoneWorkloadOptions | null;
  /** Deadline of each request, sent to the server. @default 2000 */
  deadlineMs?: number;
  /** When a client gives up on its own. @default deadlineMs + 6000 */
  localTimeoutMs?: number;
  /**
   * Allowance past a deadline before an operation counts as late: timers fire late when five
   * servers and the clients share two busy cores (up to 1.9 s measured in a 10-minute run at
   * load average 10-14). A server that ignores its deadline still shows: the client waits
   * `localTimeoutMs`, longer than deadline + slack. @default 3000
   */
  deadlineSlackMs?: number;
  /** Time to wait for gossip to agree after healing. @default 60000 */
  healTimeoutMs?: number;
  /** Time for the hint queues to drain. @default 60000 */
  hintTimeoutMs?: number;
  /** Time for the replicas to converge after the final reads. @default 30000 */
  convergenceTimeoutMs?: number;
  /** Budget of the linearizability search per check. @default 30000 */
  linearizabilityTimeLimitMs?: number;
  /** `-log-level` of the servers. @default "warn" */
  serverLogLevel?: string;
  /** Directory to save the history (JSONL) and the report in; none by default. */
  outDir?: string;
  /** Progress lines. @default none */
  log?: (line: string) => void;
}

export type ResolvedChaosOptions = Readonly<
  Required<Omit<ChaosOptions, "outDir">> & { outDir: string | undefined }
>;

export class InvalidChaosOptionsError extends Error {
  override readonly name = "InvalidChaosOptionsError";
}

function positiveInt(name: string, v: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new InvalidChaosOptionsError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
  return v;
}

function range(name: string, r: readonly [number, number]): readonly [number, number] {
  if (
    !Array.isArray(r) ||
    r.length !== 2 ||
    !r.every((x) => Number.isInteger(x) && x >= 0) ||
    r[0] > r[1]
  ) {
    throw new InvalidChaosOptionsError(
      `${name} must be [min, max] integers with 0 <= min <= max, got ${JSON.stringify(r)}`,
    );
  }
  return Object.freeze([r[0], r[1]] as const);
}

/** Fills in the defaults and validates; throws {@link InvalidChaosOptionsError} naming the field. */
export function resolveChaosOptions(o: ChaosOptions = {}): ResolvedChaosOptions {
  const nodes = positiveInt("nodes", o.nodes ?? 5, 1, 20);
  const replicas = positiveInt("replicas", o.replicas ?? 3, 1, nodes);
  const seconds = positiveInt("seconds", o.seconds ?? DEFAULT_CHAOS_SECONDS);
  const calmSeconds = positiveInt("calmSeconds", o.calmSeconds ?? DEFAULT_CALM_SECONDS, 0);
  if (calmSeconds >= seconds) {
    throw new InvalidChaosOptionsError(
      `calmSeconds (${calmSeconds}) must be less than seconds (${seconds})`,
    );
  }
  const faults = o.faults ?? FAULT_KINDS;
  for (const f of faults) {
    if (!FAULT_KINDS.includes(f)) {
      throw new InvalidChaosOptionsError(
        `unknown fault kind ${JSON.stringify(f)} (known: ${FAULT_KINDS.join(", ")})`,
      );
    }
  }
  if (o.conflictPolicy !== undefined && !["siblings", "lww"].includes(o.conflictPolicy)) {
    throw new InvalidChaosOptionsError(
      `conflictPolicy must be "siblings" or "lww", got ${JSON.stringify(o.conflictPolicy)}`,
    );
  }
  const deadlineMs = positiveInt("deadlineMs", o.deadlineMs ?? DEFAULT_DEADLINE_MS, 1, 600_000);
  const localTimeoutMs = positiveInt(
    "localTimeoutMs",
    o.localTimeoutMs ?? deadlineMs + 6000,
    deadlineMs + 1,
  );
  const set = o.set === undefined ? { keys: 2, clients: 4, maxAddsPerKey: 300 } : o.set;
  if (set !== null) {
    positiveInt("set.keys", set.keys);
    positiveInt("set.clients", set.clients);
    positiveInt("set.maxAddsPerKey", set.maxAddsPerKey);
  }
  const register =
    o.register === undefined
      ? {
          blindKeys: 4,
          contextKeys: 2,
          clients: 4,
          maxOpsPerKey: 60,
          readShare: 0.5,
          deleteShare: 0.05,
        }
      : o.register;
  if (register !== null) {
    positiveInt("register.blindKeys", register.blindKeys, 0);
    positiveInt("register.contextKeys", register.contextKeys, 0);
    if (register.blindKeys + register.contextKeys === 0) {
      throw new InvalidChaosOptionsError("the register workload needs at least one key");
    }
    positiveInt("register.clients", register.clients);
    positiveInt("register.maxOpsPerKey", register.maxOpsPerKey);
    for (const f of ["readShare", "deleteShare"] as const) {
      const v = register[f];
      if (!(v >= 0 && v <= 1)) {
        throw new InvalidChaosOptionsError(`register.${f} must be in [0, 1], got ${v}`);
      }
    }
    if (register.readShare + register.deleteShare > 1) {
      throw new InvalidChaosOptionsError("register.readShare + register.deleteShare must be <= 1");
    }
  }
  const tombstone = o.tombstone === undefined ? { clients: 2 } : o.tombstone;
  if (tombstone !== null) positiveInt("tombstone.clients", tombstone.clients);
  const seed = o.seed ?? randomSeed();
  positiveInt("seed", seed, 0, 0xffff_ffff);
  return Object.freeze({
    name: o.name ?? "chaos",
    seed,
    seconds,
    calmSeconds,
    nodes,
    replicas,
    conflictPolicy: o.conflictPolicy ?? "siblings",
    skewedNodes: positiveInt("skewedNodes", o.skewedNodes ?? 2, 0, nodes),
    skewMs: range("skewMs", o.skewMs ?? [10_000, 60_000]),
    faults: Object.freeze([...faults]),
    minFaultRounds: positiveInt("minFaultRounds", o.minFaultRounds ?? 1, 0),
    holdMs: range("holdMs", o.holdMs ?? [2000, 4000]),
    pauseMs: range("pauseMs", o.pauseMs ?? [1500, 3000]),
    gapMs: range("gapMs", o.gapMs ?? [500, 1500]),
    set,
    register,
    tombstone,
    deadlineMs,
    localTimeoutMs,
    deadlineSlackMs: positiveInt("deadlineSlackMs", o.deadlineSlackMs ?? 3000, 0),
    healTimeoutMs: positiveInt("healTimeoutMs", o.healTimeoutMs ?? 60_000),
    hintTimeoutMs: positiveInt("hintTimeoutMs", o.hintTimeoutMs ?? 60_000),
    convergenceTimeoutMs: positiveInt("convergenceTimeoutMs", o.convergenceTimeoutMs ?? 30_000),
    linearizabilityTimeLimitMs: positiveInt(
      "linearizabilityTimeLimitMs",
      o.linearizabilityTimeLimitMs ?? 30_000,
    ),
    serverLogLevel: o.serverLogLevel ?? "warn",
    outDir: o.outDir,
    log: o.log ?? (() => {}),
  });
}

/**
 * The options a run takes from the environment: `CHAOS_SECONDS` (workload length),
 * `CHAOS_SEED`, `CHAOS_OUT` (directory for histories and reports) and `CHAOS_LOG_LEVEL`
 * (servers' log level). Unset variables are left out; malformed ones throw.
 */
export function chaosOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ChaosOptions {
  const out: ChaosOptions = {};
  const int = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === "") return undefined;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 0) {
      throw new InvalidChaosOptionsError(`${name} must be a non-negative integer, got ${raw}`);
    }
    return v;
  };
  const seconds = int("CHAOS_SECONDS");
  if (seconds !== undefined) out.seconds = seconds;
  const seed = int("CHAOS_SEED");
  if (seed !== undefined) out.seed = seed;
  if (env.CHAOS_OUT !== undefined && env.CHAOS_OUT !== "") out.outDir = env.CHAOS_OUT;
  if (env.CHAOS_LOG_LEVEL !== undefined && env.CHAOS_LOG_LEVEL !== "") {
    out.serverLogLevel = env.CHAOS_LOG_LEVEL;
  }
  return out;
}
