import type { ConflictPolicy } from "@distkv/quorum";
import { InvalidSimulationOptionsError } from "./errors.js";
import { between, pick, SeededRandom } from "./random.js";

/** Default number of nodes. */
export const DEFAULT_NODES = 5;
/** Default replicas per key (N). */
export const DEFAULT_REPLICAS = 3;
/** Default number of client operations per seed. */
export const DEFAULT_OPERATIONS = 200;
/** Default coordinator deadline (`timeoutMs`), simulated ms. */
export const DEFAULT_TIMEOUT_MS = 1000;
/** Default largest wall-clock skew of a node, ms (each node draws one in [-max, max]). */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 30_000;

/**
 * What a seed draws when the options leave it open ("swarm testing": each seed runs its own mix,
 * so that some seeds pile many clients onto one key while others spread few clients over many
 * keys, and low contention does not hide the bugs that need high contention, nor the reverse).
 */
export const PROFILE_RANGES = Object.freeze({
  clients: [2, 12] as const,
  setKeys: [1, 3] as const,
  registerKeys: [1, 3] as const,
  thinkMs: [10, 50, 200, 500] as const,
  /** Chance that a seed counts hinted acknowledgements towards W (else strict quorums). */
  sloppyQuorum: 0.75,
  maxHints: [4, 10_000] as const,
  handoffBatch: [1, 50] as const,
  readAllShare: [1, 0.1, 0] as const,
  speculativeRetryMs: [10, 50] as const,
});

/** One simulation run. Every field but `seed` has a documented default. */
export interface SimulationOptions {
  /** The run's seed (a safe integer): the same seed gives the same run. */
  seed: number;
  /** Nodes in the cluster, at least 2. @default 5 */
  nodes?: number;
  /** Replicas per key (N), in [1, nodes]. @default 3 */
  replicas?: number;
  /** Client operations to issue (set adds and register reads/writes/deletes). @default 200 */
  operations?: number;
  /** Concurrent clients. @default drawn by the seed from [2, 12] */
  clients?: number;
  /** Keys of the set workload (0 disables it). @default drawn by the seed from [1, 3] */
  setKeys?: number;
  /** Keys of the register workload (0 disables it). @default drawn by the seed from [1, 3] */
  registerKeys?: number;
  /** The cluster's conflict policy. `lww` loses concurrent adds, by design. @default "siblings" */
  conflictPolicy?: ConflictPolicy;
  /**
   * Whether storage syncs each write before acknowledging it. `false` breaks the store's
   * contract (for showing that a power loss then loses acknowledged writes). @default true
   */
  syncWrites?: boolean;
  /** Inject faults (crashes, partitions, lossy links) during the workload. @default true */
  faults?: boolean;
  /** Most nodes down at once. @default floor((nodes - 1) / 2) */
  maxDown?: number;
  /** Coordinator deadline of each request, simulated ms. @default 1000 */
  timeoutMs?: number;
  /** Largest clock skew of a node, ms. @default 30000 */
  maxClockSkewMs?: number;
  /**
   * Largest client think time between operations, simulated ms.
   * @default drawn by the seed from 10, 50, 200, 500
   */
  thinkMs?: number;
  /**
   * Whether hinted acknowledgements count towards W (`@distkv/quorum`'s `sloppyQuorum`).
   * @default drawn by the seed: true three times in four
   */
  sloppyQuorum?: boolean;
  /** Hints a node keeps for others before it refuses new ones. @default drawn: 4 or 10000 */
  maxHints?: number;
  /** Hints handed off per target per round. @default drawn: 1 or 50 */
  handoffBatch?: number;
  /**
   * Share of reads that ask every live replica (`@distkv/quorum`'s `readAllShare`; the others
   * ask only R replicas, the coordinator first, with speculative retries).
   * @default drawn: 1, 0.1 (the server's default) or 0
   */
  readAllShare?: number;
  /** `@distkv/quorum`'s `speculativeRetryMs`. @default drawn: 10 or 50 */
  speculativeRetryMs?: number;
  /**
   * Called with one line per notable event (faults, operation outcomes), for `--verbose`.
   * @default none
   */
  log?: (line: string) => void;
}

/** SimulationOptions with every default filled in. */
export interface ResolvedSimulationOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly replicas: number;
  readonly operations: number;
  readonly clients: number;
  readonly setKeys: number;
  readonly registerKeys: number;
  readonly conflictPolicy: ConflictPolicy;
  readonly syncWrites: boolean;
  readonly faults: boolean;
  readonly maxDown: number;
  readonly timeoutMs: number;
  readonly maxClockSkewMs: number;
  readonly thinkMs: number;
  readonly sloppyQuorum: boolean;
  readonly maxHints: number;
  readonly handoffBatch: number;
  readonly readAllShare: number;
  readonly speculativeRetryMs: number;
  readonly log: ((line: string) => void) | undefined;
}

function int(name: string, value: unknown, fallback: number, min: number, max: number): number {
  const v = value === undefined ? fallback : value;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new InvalidSimulationOptionsError(
      `${name} must be an integer in [${min}, ${max}], got ${String(value)}`,
    );
  }
  return v;
}

function share(name: string, value: unknown, fallback: number): number {
  const v = value === undefined ? fallback : value;
  if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
    throw new InvalidSimulationOptionsError(
      `${name} must be a number in [0, 1], got ${String(value)}`,
    );
  }
  return v;
}

function bool(name: string, value: unknown, fallback: boolean): boolean {
  const v = value === undefined ? fallback : value;
  if (typeof v !== "boolean") {
    throw new InvalidSimulationOptionsError(`${name} must be a boolean, got ${String(value)}`);
  }
  return v;
}

/** Validates `options` and fills in the defaults. Throws InvalidSimulationOptionsError. */
export function resolveSimulationOptions(options: SimulationOptions): ResolvedSimulationOptions {
  if (typeof options !== "object" || options === null) {
    throw new InvalidSimulationOptionsError("simulation options must be an object");
  }
  const seed = int("seed", options.seed, Number.NaN, 0, Number.MAX_SAFE_INTEGER);
  const nodes = int("nodes", options.nodes, DEFAULT_NODES, 2, 64);
  const replicas = int("replicas", options.replicas, Math.min(DEFAULT_REPLICAS, nodes), 1, nodes);
  const profile = new SeededRandom(seed).fork("profile");
  const r = PROFILE_RANGES;
  // Always drawn, so that an option given explicitly does not shift the others' draws.
  const drawn = {
    clients: between(profile, r.clients[0], r.clients[1]),
    setKeys: between(profile, r.setKeys[0], r.setKeys[1]),
    registerKeys: between(profile, r.registerKeys[0], r.registerKeys[1]),
    thinkMs: pick(profile, r.thinkMs),
    sloppyQuorum: profile.chance(r.sloppyQuorum),
    maxHints: pick(profile, r.maxHints),
    handoffBatch: pick(profile, r.handoffBatch),
    readAllShare: pick(profile, r.readAllShare),
    speculativeRetryMs: pick(profile, r.speculativeRetryMs),
  };
  const setKeys = int("setKeys", options.setKeys, drawn.setKeys, 0, 1000);
  const registerKeys = int("registerKeys", options.registerKeys, drawn.registerKeys, 0, 1000);
  if (setKeys + registerKeys === 0) {
    throw new InvalidSimulationOptionsError("setKeys and registerKeys cannot both be 0");
  }
  const policy = options.conflictPolicy ?? "siblings";
  if (policy !== "siblings" && policy !== "lww") {
    throw new InvalidSimulationOptionsError(
      `conflictPolicy must be "siblings" or "lww", got ${String(policy)}`,
    );
  }
  if (options.log !== undefined && typeof options.log !== "function") {
    throw new InvalidSimulationOptionsError("log must be a function");
  }
  return Object.freeze({
    seed,
    nodes,
    replicas,
    operations: int("operations", options.operations, DEFAULT_OPERATIONS, 1, 10_000_000),
    clients: int("clients", options.clients, drawn.clients, 1, 1000),
    setKeys,
    registerKeys,
    conflictPolicy: policy,
    syncWrites: bool("syncWrites", options.syncWrites, true),
    faults: bool("faults", options.faults, true),
    maxDown: int("maxDown", options.maxDown, Math.floor((nodes - 1) / 2), 0, nodes),
    timeoutMs: int("timeoutMs", options.timeoutMs, DEFAULT_TIMEOUT_MS, 10, 600_000),
    maxClockSkewMs: int(
      "maxClockSkewMs",
      options.maxClockSkewMs,
      DEFAULT_MAX_CLOCK_SKEW_MS,
      0,
      86_400_000,
    ),
    thinkMs: int("thinkMs", options.thinkMs, drawn.thinkMs, 0, 600_000),
    sloppyQuorum: bool("sloppyQuorum", options.sloppyQuorum, drawn.sloppyQuorum),
    maxHints: int("maxHints", options.maxHints, drawn.maxHints, 1, 10_000_000),
    handoffBatch: int("handoffBatch", options.handoffBatch, drawn.handoffBatch, 1, 100_000),
    readAllShare: share("readAllShare", options.readAllShare, drawn.readAllShare),
    speculativeRetryMs: int(
      "speculativeRetryMs",
      options.speculativeRetryMs,
      drawn.speculativeRetryMs,
      0,
      600_000,
    ),
    log: options.log,
  });
}
