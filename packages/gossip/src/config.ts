import { describe } from "./describe.js";
import { InvalidGossipConfigError } from "./errors.js";
import { MAX_ADDRESS_BYTES, MAX_ID_BYTES } from "./member.js";

/** Named starting points, as memberlist's DefaultLANConfig / DefaultLocalConfig / DefaultWANConfig. */
export type GossipPreset = "lan" | "local" | "wan";

/**
 * Tuning of the protocol. Every field is optional; unset fields come from the `preset`
 * (`lan` by default). Durations end in `Ms`, sizes in `Bytes`. The `@default`s are the `lan`
 * values; see {@link GOSSIP_PRESETS} for the others.
 */
export interface GossipConfig {
  /** Which preset fills the unset fields. @default "lan" */
  preset?: GossipPreset;
  /**
   * Time between two probes of this node (one random member per probe, round-robin over a
   * shuffled list). Multiplied by the local health multiplier (1..awarenessMaxMultiplier) when
   * this node misses acks or nacks. Detection time and probe traffic both scale with it.
   * @default 1000
   */
  probeIntervalMs?: number;
  /**
   * How long a direct ping waits for its ack before indirect pings go out; also scaled by the
   * health multiplier. Should exceed the 99th percentile round trip. Must be below
   * probeIntervalMs, the whole budget of a probe.
   * @default 500
   */
  probeTimeoutMs?: number;
  /** Members asked to ping a target indirectly when the direct ping times out; 0 disables. @default 3 */
  indirectChecks?: number;
  /**
   * Scales the suspicion timeout: min = suspicionMultiplier * max(1, log10(n)) *
   * probeIntervalMs, for n members not dead or left. Also sets how many independent
   * confirmations shrink the timeout to its minimum: suspicionMultiplier - 2.
   * @default 4
   */
  suspicionMultiplier?: number;
  /** The timeout of a suspicion nobody confirms: max = this * min. @default 6 */
  suspicionMaxTimeoutMultiplier?: number;
  /**
   * A membership update is piggybacked on at most retransmitMultiplier * ceil(log10(n + 1))
   * outgoing messages of each node that learned it.
   * @default 4
   */
  retransmitMultiplier?: number;
  /** Time between two rounds of gossip (sent only when updates are queued). @default 200 */
  gossipIntervalMs?: number;
  /** Members each gossip round sends to. @default 3 */
  gossipNodes?: number;
  /** Dead members still receive gossip this long, so that a wrongly declared node learns and refutes. @default 30000 */
  gossipToTheDeadMs?: number;
  /**
   * Time between two full-state exchanges with a random live member; 0 disables. Above 32
   * members it is multiplied by ceil(log2(n) - log2(32)) + 1, so the cluster's total push-pull
   * traffic grows slower than n.
   * @default 30000
   */
  pushPullIntervalMs?: number;
  /** How long a push-pull exchange (and each seed contacted by `join`) may take. @default 10000 */
  pushPullTimeoutMs?: number;
  /**
   * Time between attempts to push-pull with one random dead (not left) member, so that the two
   * sides of a healed partition find each other again; 0 disables.
   * @default 10000
   */
  reconnectIntervalMs?: number;
  /**
   * How long `leave()` keeps gossiping its leave before it resolves false; it resolves true as
   * soon as the leave went out retransmit-limit times.
   * @default 5000
   */
  leaveTimeoutMs?: number;
  /** How long dead and left members are remembered (tombstones against stale updates) before removal. @default 3600000 */
  deadRetentionMs?: number;
  /**
   * Upper bound of the local health multiplier (Lifeguard): probe interval and timeout are
   * multiplied by (score + 1), with the score in [0, awarenessMaxMultiplier - 1].
   * @default 8
   */
  awarenessMaxMultiplier?: number;
  /** Largest datagram this node builds (pings, acks, gossip with piggybacked updates). @default 1400 */
  maxDatagramBytes?: number;
  /** Largest application metadata a member may carry. @default 512 */
  maxMetadataBytes?: number;
}

export interface ResolvedGossipConfig {
  readonly preset: GossipPreset;
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  readonly indirectChecks: number;
  readonly suspicionMultiplier: number;
  readonly suspicionMaxTimeoutMultiplier: number;
  readonly retransmitMultiplier: number;
  readonly gossipIntervalMs: number;
  readonly gossipNodes: number;
  readonly gossipToTheDeadMs: number;
  readonly pushPullIntervalMs: number;
  readonly pushPullTimeoutMs: number;
  readonly reconnectIntervalMs: number;
  readonly leaveTimeoutMs: number;
  readonly deadRetentionMs: number;
  readonly awarenessMaxMultiplier: number;
  readonly maxDatagramBytes: number;
  readonly maxMetadataBytes: number;
}

type Tunables = Omit<ResolvedGossipConfig, "preset">;

const COMMON = {
  suspicionMaxTimeoutMultiplier: 6,
  deadRetentionMs: 3_600_000,
  awarenessMaxMultiplier: 8,
  maxDatagramBytes: 1400,
  maxMetadataBytes: 512,
} as const;

/**
 * The presets. `lan` is memberlist's DefaultLANConfig; `local` (loopback or one rack: fast,
 * reliable links) probes faster and retransmits less; `wan` tolerates long round trips.
 */
export const GOSSIP_PRESETS: Readonly<Record<GossipPreset, Readonly<Tunables>>> = Object.freeze({
  lan: Object.freeze({
    ...COMMON,
    probeIntervalMs: 1000,
    probeTimeoutMs: 500,
    indirectChecks: 3,
    suspicionMultiplier: 4,
    retransmitMultiplier: 4,
    gossipIntervalMs: 200,
    gossipNodes: 3,
    gossipToTheDeadMs: 30_000,
    pushPullIntervalMs: 30_000,
    pushPullTimeoutMs: 10_000,
    reconnectIntervalMs: 10_000,
    leaveTimeoutMs: 5000,
  }),
  local: Object.freeze({
    ...COMMON,
    probeIntervalMs: 1000,
    probeTimeoutMs: 200,
    indirectChecks: 1,
    suspicionMultiplier: 3,
    retransmitMultiplier: 2,
    gossipIntervalMs: 100,
    gossipNodes: 3,
    gossipToTheDeadMs: 15_000,
    pushPullIntervalMs: 15_000,
    pushPullTimeoutMs: 1000,
    reconnectIntervalMs: 5000,
    leaveTimeoutMs: 5000,
  }),
  wan: Object.freeze({
    ...COMMON,
    probeIntervalMs: 5000,
    probeTimeoutMs: 3000,
    indirectChecks: 3,
    suspicionMultiplier: 6,
    retransmitMultiplier: 4,
    gossipIntervalMs: 500,
    gossipNodes: 4,
    gossipToTheDeadMs: 60_000,
    pushPullIntervalMs: 60_000,
    pushPullTimeoutMs: 30_000,
    reconnectIntervalMs: 30_000,
    leaveTimeoutMs: 15_000,
  }),
});

/** Bytes an alive message takes besides the metadata, at most (ids and addresses at their limits). */
const ALIVE_OVERHEAD_BYTES = 1 + (2 + MAX_ID_BYTES) + (2 + MAX_ADDRESS_BYTES) + 8 + 1 + 3;

interface FieldRule {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

const DAY_MS = 86_400_000;
const RULES: Readonly<Record<keyof Tunables, FieldRule>> = {
  probeIntervalMs: { min: 1, max: DAY_MS, integer: false },
  probeTimeoutMs: { min: 1, max: DAY_MS, integer: false },
  indirectChecks: { min: 0, max: 64, integer: true },
  suspicionMultiplier: { min: 1, max: 1000, integer: true },
  suspicionMaxTimeoutMultiplier: { min: 1, max: 1000, integer: false },
  retransmitMultiplier: { min: 1, max: 1000, integer: true },
  gossipIntervalMs: { min: 1, max: DAY_MS, integer: false },
  gossipNodes: { min: 1, max: 64, integer: true },
  gossipToTheDeadMs: { min: 0, max: 365 * DAY_MS, integer: false },
  pushPullIntervalMs: { min: 0, max: 365 * DAY_MS, integer: false },
  pushPullTimeoutMs: { min: 1, max: DAY_MS, integer: false },
  reconnectIntervalMs: { min: 0, max: 365 * DAY_MS, integer: false },
  leaveTimeoutMs: { min: 0, max: DAY_MS, integer: false },
  deadRetentionMs: { min: 0, max: 365 * DAY_MS, integer: false },
  awarenessMaxMultiplier: { min: 1, max: 1000, integer: true },
  maxDatagramBytes: { min: 576, max: 16 * 1024 * 1024, integer: true },
  maxMetadataBytes: { min: 0, max: 16 * 1024 * 1024, integer: true },
};

const FIELDS = Object.keys(RULES) as (keyof Tunables)[];

/**
 * Validates `config` and returns a complete, frozen configuration: the preset's values with the
 * given fields on top. Throws InvalidGossipConfigError naming the first bad field.
 */
export function resolveGossipConfig(config: GossipConfig = {}): ResolvedGossipConfig {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new InvalidGossipConfigError(`gossip config must be an object, got ${describe(config)}`);
  }
  for (const key of Object.keys(config)) {
    if (key !== "preset" && !(key in RULES)) {
      throw new InvalidGossipConfigError(`unknown gossip config field ${JSON.stringify(key)}`);
    }
  }
  const preset = config.preset ?? "lan";
  if (!Object.hasOwn(GOSSIP_PRESETS, preset)) {
    throw new InvalidGossipConfigError(
      `preset must be one of ${Object.keys(GOSSIP_PRESETS).join(", ")}, got ${describe(preset)}`,
    );
  }
  const out: Record<string, unknown> = { preset };
  const base = GOSSIP_PRESETS[preset];
  for (const field of FIELDS) {
    const value = config[field] ?? base[field];
    const rule = RULES[field];
    if (
      typeof value !== "number" ||
      !Number.isFinite(value) ||
      (rule.integer && !Number.isInteger(value)) ||
      value < rule.min ||
      value > rule.max
    ) {
      throw new InvalidGossipConfigError(
        `${field} must be ${rule.integer ? "an integer" : "a number"} in [${rule.min}, ${rule.max}], got ${describe(value)}`,
      );
    }
    out[field] = value;
  }
  const resolved = out as unknown as ResolvedGossipConfig;
  if (resolved.probeTimeoutMs >= resolved.probeIntervalMs) {
    throw new InvalidGossipConfigError(
      `probeTimeoutMs (${resolved.probeTimeoutMs}) must be below probeIntervalMs (${resolved.probeIntervalMs}): indirect probes need the rest of the interval`,
    );
  }
  if (resolved.deadRetentionMs < resolved.gossipToTheDeadMs) {
    throw new InvalidGossipConfigError(
      `deadRetentionMs (${resolved.deadRetentionMs}) must be at least gossipToTheDeadMs (${resolved.gossipToTheDeadMs})`,
    );
  }
  if (resolved.maxMetadataBytes + ALIVE_OVERHEAD_BYTES > resolved.maxDatagramBytes) {
    throw new InvalidGossipConfigError(
      `maxMetadataBytes (${resolved.maxMetadataBytes}) leaves no room in a datagram: it must be at most maxDatagramBytes - ${ALIVE_OVERHEAD_BYTES} = ${resolved.maxDatagramBytes - ALIVE_OVERHEAD_BYTES}`,
    );
  }
  return Object.freeze(resolved);
}

/** How many outgoing messages carry one update, per node: mult * ceil(log10(n + 1)). */
export function retransmitLimit(retransmitMultiplier: number, members: number): number {
  return retransmitMultiplier * Math.ceil(Math.log10(Math.max(0, members) + 1));
}

/** The push-pull period for a cluster of `members`: grows with log2(n) above 32 members. */
export function pushPullIntervalFor(intervalMs: number, members: number): number {
  const threshold = 32;
  if (members <= threshold) return intervalMs;
  return intervalMs * (Math.ceil(Math.log2(members) - Math.log2(threshold)) + 1);
}

/** The bounds of a suspicion's timeout for a cluster of `members` not dead or left (self included). */
export interface SuspicionBounds {
  readonly minMs: number;
  readonly maxMs: number;
  /** Independent confirmations after which the timeout is minMs (0: it starts at minMs). */
  readonly confirmations: number;
}

/**
 * Lifeguard's dynamic suspicion bounds. min = mult * max(1, log10(n)) * probeInterval;
 * max = maxMult * min; k = mult - 2 confirmations, or 0 when fewer than k other members could
 * confirm (n - 2 < k), in which case the timeout is min from the start.
 */
export function suspicionBounds(
  config: Pick<
    ResolvedGossipConfig,
    "suspicionMultiplier" | "suspicionMaxTimeoutMultiplier" | "probeIntervalMs"
  >,
  members: number,
): SuspicionBounds {
  const scale = Math.max(1, Math.log10(Math.max(1, members)));
  const minMs = config.suspicionMultiplier * scale * config.probeIntervalMs;
  const maxMs = config.suspicionMaxTimeoutMultiplier * minMs;
  let confirmations = Math.max(0, config.suspicionMultiplier - 2);
  if (members - 2 < confirmations) confirmations = 0;
  return { minMs, maxMs, confirmations };
}

/**
 * The timeout of a suspicion after `confirmed` independent confirmations: it falls from max to
 * min logarithmically, max - (max - min) * log(c + 1) / log(k + 1), and never below min.
 */
export function suspicionTimeoutMs(bounds: SuspicionBounds, confirmed: number): number {
  const { minMs, maxMs, confirmations: k } = bounds;
  if (k < 1) return minMs;
  const frac = Math.log(confirmed + 1) / Math.log(k + 1);
  return Math.max(minMs, Math.floor(maxMs - (maxMs - minMs) * frac));
}
