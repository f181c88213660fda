import { statSync } from "node:fs";
import { resolve } from "node:path";

/** Everything a node needs to start, validated. Durations end in Ms, sizes in Bytes. */
export interface ServerConfig {
  readonly nodeId: string;
  /** host:port other nodes and clients use to reach this node. */
  readonly address: string;
  readonly host: string;
  /** 0 picks a free port at start (tests); the advertised address then uses the real one. */
  readonly port: number;
  readonly dataDir: string;
  /** host:port of the nodes to contact first; this node's own address is ignored. */
  readonly seedNodes: readonly string[];
  readonly replicas: number;
  readonly readQuorum: number;
  readonly writeQuorum: number;
  readonly virtualNodes: number;
  readonly requestTimeoutMs: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly conflictPolicy: "siblings" | "lww";
  /** Acknowledge writes only after the local WAL is fsynced. */
  readonly syncWrites: boolean;
  /** Data moved to a joining node or away from a leaving one, at most this fast; 0: unlimited. */
  readonly streamRateBytesPerSecond: number;
  /** Share of reads that ask every replica; the others ask R (see @distkv/quorum readAllShare). */
  readonly readAllShare: number;
  /** Time between anti-entropy rounds; 0: only on demand (distkv-client repair). */
  readonly antiEntropyIntervalMs: number;
  /** Tombstones older than this on every replica are purged; 0 keeps them forever. */
  readonly tombstoneGraceMs: number;
  /** Hints older than this are dropped undelivered (anti-entropy repairs instead); 0: never. */
  readonly hintMaxAgeMs: number;
  /** Test only: serve FaultService and apply its link faults to outgoing peer calls. */
  readonly enableFaultInjection: boolean;
  /** Test only: added to the wall clock this node stamps versions with (clock skew). */
  readonly clockOffsetMs: number;
  readonly logLevel: LogLevel;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export const DEFAULTS = {
  address: "localhost:8080",
  dataDir: "./data",
  replicas: 3,
  readQuorum: 2,
  writeQuorum: 2,
  virtualNodes: 150,
  requestTimeoutMs: 5000,
  maxKeyBytes: 1024,
  maxValueBytes: 1024 * 1024,
  conflictPolicy: "siblings",
  syncWrites: false,
  streamRateMbPerSecond: 32,
  readAllShare: 0.1,
  antiEntropyIntervalMs: 60_000,
  tombstoneGraceMs: 86_400_000,
  hintMaxAgeMs: 3 * 3_600_000,
  logLevel: "info",
} as const;

/** A bad flag or flag combination; the server prints the message and exits non-zero. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export interface RawConfig {
  nodeId?: string | undefined;
  address?: string | undefined;
  dataDir?: string | undefined;
  seedNodes?: string | readonly string[] | undefined;
  replicas?: number | undefined;
  readQuorum?: number | undefined;
  writeQuorum?: number | undefined;
  virtualNodes?: number | undefined;
  requestTimeoutMs?: number | undefined;
  streamRateMbPerSecond?: number | undefined;
  enableFaultInjection?: boolean | undefined;
  readAllShare?: number | undefined;
  antiEntropyIntervalMs?: number | undefined;
  tombstoneGraceMs?: number | undefined;
  hintMaxAgeMs?: number | undefined;
  clockOffsetMs?: number | undefined;
  maxKeyBytes?: number | undefined;
  maxValueBytes?: number | undefined;
  conflictPolicy?: string | undefined;
  syncWrites?: boolean | undefined;
  logLevel?: string | undefined;
}

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Splits `host:port` (also `[::1]:port`); throws ConfigError naming the flag. */
export function parseAddress(text: string, flag: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(text.trim());
  if (m === null) throw new ConfigError(`--${flag} must be host:port, got "${text}"`);
  const port = Number(m[2]);
  if (port > 65535) throw new ConfigError(`--${flag} port must be 0..65535, got ${port}`);
  return { host: m[1]!, port };
}

function integer(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
) {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`--${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return v;
}

/** Validates raw flag values into a complete, frozen config. Touches the disk only to stat data-dir. */
export function resolveConfig(raw: RawConfig): ServerConfig {
  const nodeId = raw.nodeId?.trim() ?? "";
  if (nodeId === "") throw new ConfigError("--node-id is required (e.g. -node-id=node1)");
  if (!NODE_ID.test(nodeId)) {
    throw new ConfigError(
      `--node-id must be 1-64 letters, digits, '.', '_' or '-' and start with a letter or digit, got "${nodeId}"`,
    );
  }
  const address = (raw.address ?? DEFAULTS.address).trim();
  const { host, port } = parseAddress(address, "address");
  const replicas = integer("replicas", raw.replicas, DEFAULTS.replicas, 1, 16);
  const readQuorum = integer("read-quorum", raw.readQuorum, DEFAULTS.readQuorum, 1, 16);
  const writeQuorum = integer("write-quorum", raw.writeQuorum, DEFAULTS.writeQuorum, 1, 16);
  if (readQuorum > replicas) {
    throw new ConfigError(`--read-quorum (${readQuorum}) cannot exceed --replicas (${replicas})`);
  }
  if (writeQuorum > replicas) {
    throw new ConfigError(`--write-quorum (${writeQuorum}) cannot exceed --replicas (${replicas})`);
  }
  const virtualNodes = integer("virtual-nodes", raw.virtualNodes, DEFAULTS.virtualNodes, 1, 4096);
  const requestTimeoutMs = integer(
    "request-timeout-ms",
    raw.requestTimeoutMs,
    DEFAULTS.requestTimeoutMs,
    1,
    600_000,
  );
  const streamRate = raw.streamRateMbPerSecond ?? DEFAULTS.streamRateMbPerSecond;
  if (typeof streamRate !== "number" || !Number.isFinite(streamRate) || streamRate < 0) {
    throw new ConfigError(
      `--stream-rate-mb must be a number of MiB per second >= 0 (0: unlimited), got ${String(streamRate)}`,
    );
  }
  const readAllShare = raw.readAllShare ?? DEFAULTS.readAllShare;
  if (typeof readAllShare !== "number" || !(readAllShare >= 0 && readAllShare <= 1)) {
    throw new ConfigError(
      `--read-all-share must be a number from 0 to 1, got ${String(readAllShare)}`,
    );
  }
  const maxKeyBytes = integer("max-key-bytes", raw.maxKeyBytes, DEFAULTS.maxKeyBytes, 1, 65_536);
  const maxValueBytes = integer(
    "max-value-bytes",
    raw.maxValueBytes,
    DEFAULTS.maxValueBytes,
    0,
    64 * 1024 * 1024,
  );
  const conflictPolicy = raw.conflictPolicy ?? DEFAULTS.conflictPolicy;
  if (conflictPolicy !== "siblings" && conflictPolicy !== "lww") {
    throw new ConfigError(`--conflict-policy must be siblings or lww, got "${conflictPolicy}"`);
  }
  const tombstoneGraceMs = integer(
    "tombstone-grace-ms",
    raw.tombstoneGraceMs,
    DEFAULTS.tombstoneGraceMs,
    0,
    365 * 86_400_000,
  );
  // A hint delivered after its key's tombstone was purged would bring the deleted value back:
  // with GC on, hints must expire well within the grace period (default: half of it at most).
  const hintMaxAgeMs = integer(
    "hint-max-age-ms",
    raw.hintMaxAgeMs,
    tombstoneGraceMs === 0
      ? DEFAULTS.hintMaxAgeMs
      : Math.min(DEFAULTS.hintMaxAgeMs, Math.floor(tombstoneGraceMs / 2)),
    0,
    365 * 86_400_000,
  );
  if (tombstoneGraceMs > 0 && (hintMaxAgeMs === 0 || hintMaxAgeMs >= tombstoneGraceMs)) {
    throw new ConfigError(
      `--hint-max-age-ms (${hintMaxAgeMs}) must be above 0 and below --tombstone-grace-ms ` +
        `(${tombstoneGraceMs}): a hint older than the grace period could bring a purged value ` +
        "back (or set --tombstone-grace-ms=0 to keep tombstones)",
    );
  }
  const logLevel = raw.logLevel ?? DEFAULTS.logLevel;
  if (!["debug", "info", "warn", "error", "silent"].includes(logLevel)) {
    throw new ConfigError(
      `--log-level must be debug, info, warn, error or silent, got "${logLevel}"`,
    );
  }
  const dataDir = resolve(raw.dataDir ?? DEFAULTS.dataDir);
  try {
    if (!statSync(dataDir).isDirectory()) {
      throw new ConfigError(`--data-dir ${dataDir} exists and is not a directory`);
    }
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new ConfigError(`--data-dir ${dataDir} cannot be used: ${(e as Error).message}`);
    }
  }
  const seedList =
    typeof raw.seedNodes === "string" ? raw.seedNodes.split(",") : [...(raw.seedNodes ?? [])];
  const seedNodes = seedList.map((s) => s.trim()).filter((s) => s !== "");
  for (const seed of seedNodes) parseAddress(seed, "seed-nodes");
  return Object.freeze({
    nodeId,
    address,
    host,
    port,
    dataDir,
    seedNodes: Object.freeze(seedNodes.filter((s) => s !== address)),
    replicas,
    readQuorum,
    writeQuorum,
    virtualNodes,
    requestTimeoutMs,
    maxKeyBytes,
    maxValueBytes,
    conflictPolicy,
    syncWrites: raw.syncWrites ?? DEFAULTS.syncWrites,
    streamRateBytesPerSecond: Math.round(streamRate * 1024 * 1024),
    readAllShare,
    antiEntropyIntervalMs: integer(
      "anti-entropy-interval-ms",
      raw.antiEntropyIntervalMs,
      DEFAULTS.antiEntropyIntervalMs,
      0,
      86_400_000,
    ),
    tombstoneGraceMs,
    hintMaxAgeMs,
    enableFaultInjection: raw.enableFaultInjection ?? false,
    clockOffsetMs: integer("test-clock-offset-ms", raw.clockOffsetMs, 0, -86_400_000, 86_400_000),
    logLevel: logLevel as LogLevel,
  });
}
