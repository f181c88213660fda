/**
 * Options of a database, with their defaults and the trade-offs behind them. Sizes end in
 * `Bytes`, durations in `Ms`. `resolveDbOptions()` validates and fills in defaults.
 */

import { InvalidArgumentError } from "./errors.js";
import { NodeFileSystem } from "./fs/node-fs.js";
import type { FileSystem } from "./fs/types.js";

export const KiB = 1024;
export const MiB = 1024 * 1024;

export const DEFAULT_WRITE_BUFFER_BYTES = 4 * MiB;
export const DEFAULT_MAX_IMMUTABLE_MEMTABLES = 2;
export const DEFAULT_BLOCK_CACHE_BYTES = 8 * MiB;
export const DEFAULT_BLOCK_SIZE_BYTES = 4 * KiB;
export const DEFAULT_BLOCK_RESTART_INTERVAL = 16;
export const DEFAULT_BLOOM_BITS_PER_KEY = 10;
export const DEFAULT_TARGET_FILE_SIZE_BYTES = 2 * MiB;
export const DEFAULT_MAX_BYTES_FOR_LEVEL_BASE = 10 * MiB;
export const DEFAULT_LEVEL_SIZE_MULTIPLIER = 10;
export const DEFAULT_NUM_LEVELS = 7;
export const DEFAULT_L0_COMPACTION_TRIGGER = 4;
export const DEFAULT_L0_SLOWDOWN_TRIGGER = 8;
export const DEFAULT_L0_STOP_TRIGGER = 12;
export const DEFAULT_SLOWDOWN_DELAY_MS = 1;
export const DEFAULT_MAX_OPEN_FILES = 1000;
export const DEFAULT_MAX_KEY_BYTES = 64 * KiB;
export const DEFAULT_MAX_VALUE_BYTES = 64 * MiB;
export const DEFAULT_BACKGROUND_SLICE_MS = 1;
export const DEFAULT_MAX_MANIFEST_BYTES = 4 * MiB;

export interface DbOptions {
  /**
   * Where files live. Tests pass a MemoryFileSystem (power-loss simulation) or a
   * FaultInjectingFileSystem.
   * @default new NodeFileSystem()
   */
  fs?: FileSystem;
  /** Create the directory and an empty database if there is none. @default true */
  createIfMissing?: boolean;
  /** Fail if a database already exists in the directory. @default false */
  errorIfExists?: boolean;
  /**
   * Memtable budget: when the active memtable holds this many bytes (keys + values + ~160 bytes
   * of JS overhead per entry) it is frozen and flushed to a level-0 table. Larger: fewer, larger
   * L0 files and less write amplification, but more memory and a longer WAL replay on open.
   * @default 4 MiB
   */
  writeBufferBytes?: number;
  /**
   * Frozen memtables allowed to wait for their flush. When this many are waiting and the active
   * one is full, writes stop until a flush finishes (counted in stats().writeStall.stops).
   * @default 2
   */
  maxImmutableMemtables?: number;
  /**
   * Byte budget of the block cache (uncompressed data blocks). 0 disables it (every read goes to
   * the OS page cache through readSync). @default 8 MiB
   */
  blockCacheBytes?: number;
  /** Target uncompressed size of a table data block. @default 4096 */
  blockSizeBytes?: number;
  /** Keys between restart points inside a block (prefix compression vs seek cost). @default 16 */
  blockRestartInterval?: number;
  /**
   * Bloom filter bits per key (about 1% false positives at 10). Filters stay in memory for every
   * open table. @default 10
   */
  bloomBitsPerKey?: number;
  /** Compaction output files are cut at about this size. @default 2 MiB */
  targetFileSizeBytes?: number;
  /** Size limit of level 1; level n+1 may hold `levelSizeMultiplier` times level n. @default 10 MiB */
  maxBytesForLevelBase?: number;
  /** Size ratio between adjacent levels. @default 10 */
  levelSizeMultiplier?: number;
  /** Number of levels (L0 .. L(n-1)). @default 7 */
  numLevels?: number;
  /** L0 file count that triggers an L0 -> L1 compaction. @default 4 */
  l0CompactionTrigger?: number;
  /** L0 file count from which each write group is delayed by `slowdownDelayMs`. @default 8 */
  l0SlowdownTrigger?: number;
  /** L0 file count at which writes wait for compaction. @default 12 */
  l0StopTrigger?: number;
  /** Delay applied once per write group while L0 is at or above the slowdown trigger. @default 1 */
  slowdownDelayMs?: number;
  /**
   * Table readers kept open (each holds its index and bloom filter in memory and one file
   * descriptor). Beyond it the least recently used reader is closed and reopened on demand.
   * @default 1000
   */
  maxOpenFiles?: number;
  /** Verify block checksums on every read (not only in compaction). @default true */
  verifyChecksums?: boolean;
  /** Longest accepted key. @default 65536 */
  maxKeyBytes?: number;
  /** Longest accepted value. @default 64 MiB */
  maxValueBytes?: number;
  /**
   * Run compactions automatically when a level exceeds its budget. When false, only flushes run
   * in the background and compactRange() compacts (L0 still triggers stops at l0StopTrigger, so
   * leave this on unless you call compactRange yourself). @default true
   */
  autoCompaction?: boolean;
  /**
   * Background work (flush, compaction) yields to the event loop (setImmediate) after this much
   * continuous work, so foreground requests wait at most about this long. @default 1
   */
  backgroundSliceMs?: number;
  /** When the manifest grows past this, a fresh one is written and CURRENT swapped. @default 4 MiB */
  maxManifestBytes?: number;
  /**
   * Merge compactions on a worker thread (the second core) instead of in slices on the event
   * loop. Measured here (2 cores): sustained random writes ~1.2-1.5x faster and no compaction
   * slices between requests, but ~60-90 MB more RSS (a second V8 isolate and its buffers) and
   * a worker start-up on the first compaction. Needs the NodeFileSystem (the worker opens
   * table files by path); flushes always stay on the main thread.
   * @default false
   */
  compactionWorker?: boolean;
}

export type ResolvedDbOptions = Readonly<Required<Omit<DbOptions, "fs">>> & {
  readonly fs: FileSystem;
};
type MutableResolved = { -readonly [K in keyof ResolvedDbOptions]: ResolvedDbOptions[K] };

export interface WriteOptions {
  /**
   * Resolve only after the WAL record is on disk (fdatasync). Concurrent sync writers share one
   * fdatasync (group commit). When false the write resolves once it is in the OS page cache: it
   * survives a crash of this process but not a power loss or kernel crash. @default false
   */
  sync?: boolean;
}

function int(
  name: string,
  v: number | undefined,
  dflt: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(
      `option ${name} must be an integer in [${min}, ${max}], got ${v}`,
    );
  }
  return v;
}

function bool(name: string, v: boolean | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") throw new InvalidArgumentError(`option ${name} must be a boolean`);
  return v;
}

export function resolveDbOptions(
  options: DbOptions | undefined,
  defaultFs: () => FileSystem,
): ResolvedDbOptions {
  const o = options ?? {};
  if (typeof o !== "object") throw new InvalidArgumentError("options must be an object");
  const numLevels = int("numLevels", o.numLevels, DEFAULT_NUM_LEVELS, 2, 20);
  const l0CompactionTrigger = int(
    "l0CompactionTrigger",
    o.l0CompactionTrigger,
    DEFAULT_L0_COMPACTION_TRIGGER,
    1,
  );
  const l0SlowdownTrigger = int(
    "l0SlowdownTrigger",
    o.l0SlowdownTrigger,
    Math.max(DEFAULT_L0_SLOWDOWN_TRIGGER, l0CompactionTrigger),
    l0CompactionTrigger,
  );
  const l0StopTrigger = int(
    "l0StopTrigger",
    o.l0StopTrigger,
    Math.max(DEFAULT_L0_STOP_TRIGGER, l0SlowdownTrigger),
    l0SlowdownTrigger,
  );
  const resolved: MutableResolved = {
    fs: o.fs ?? defaultFs(),
    createIfMissing: bool("createIfMissing", o.createIfMissing, true),
    errorIfExists: bool("errorIfExists", o.errorIfExists, false),
    writeBufferBytes: int("writeBufferBytes", o.writeBufferBytes, DEFAULT_WRITE_BUFFER_BYTES, 1),
    maxImmutableMemtables: int(
      "maxImmutableMemtables",
      o.maxImmutableMemtables,
      DEFAULT_MAX_IMMUTABLE_MEMTABLES,
      1,
      64,
    ),
    blockCacheBytes: int("blockCacheBytes", o.blockCacheBytes, DEFAULT_BLOCK_CACHE_BYTES, 0),
    blockSizeBytes: int("blockSizeBytes", o.blockSizeBytes, DEFAULT_BLOCK_SIZE_BYTES, 64, 64 * MiB),
    blockRestartInterval: int(
      "blockRestartInterval",
      o.blockRestartInterval,
      DEFAULT_BLOCK_RESTART_INTERVAL,
      1,
      1 << 16,
    ),
    bloomBitsPerKey: int("bloomBitsPerKey", o.bloomBitsPerKey, DEFAULT_BLOOM_BITS_PER_KEY, 0, 64),
    targetFileSizeBytes: int(
      "targetFileSizeBytes",
      o.targetFileSizeBytes,
      DEFAULT_TARGET_FILE_SIZE_BYTES,
      1,
    ),
    maxBytesForLevelBase: int(
      "maxBytesForLevelBase",
      o.maxBytesForLevelBase,
      DEFAULT_MAX_BYTES_FOR_LEVEL_BASE,
      1,
    ),
    levelSizeMultiplier: int(
      "levelSizeMultiplier",
      o.levelSizeMultiplier,
      DEFAULT_LEVEL_SIZE_MULTIPLIER,
      2,
      1000,
    ),
    numLevels,
    l0CompactionTrigger,
    l0SlowdownTrigger,
    l0StopTrigger,
    slowdownDelayMs: int(
      "slowdownDelayMs",
      o.slowdownDelayMs,
      DEFAULT_SLOWDOWN_DELAY_MS,
      0,
      10_000,
    ),
    maxOpenFiles: int("maxOpenFiles", o.maxOpenFiles, DEFAULT_MAX_OPEN_FILES, 2),
    verifyChecksums: bool("verifyChecksums", o.verifyChecksums, true),
    maxKeyBytes: int("maxKeyBytes", o.maxKeyBytes, DEFAULT_MAX_KEY_BYTES, 1, 16 * MiB),
    maxValueBytes: int("maxValueBytes", o.maxValueBytes, DEFAULT_MAX_VALUE_BYTES, 0, 1024 * MiB),
    autoCompaction: bool("autoCompaction", o.autoCompaction, true),
    backgroundSliceMs: int(
      "backgroundSliceMs",
      o.backgroundSliceMs,
      DEFAULT_BACKGROUND_SLICE_MS,
      0,
      1000,
    ),
    maxManifestBytes: int("maxManifestBytes", o.maxManifestBytes, DEFAULT_MAX_MANIFEST_BYTES, 1),
    compactionWorker: false,
  };
  const nodeFs = resolved.fs instanceof NodeFileSystem;
  const worker = bool("compactionWorker", o.compactionWorker, false);
  if (worker && !nodeFs) {
    throw new InvalidArgumentError(
      "compactionWorker needs the NodeFileSystem (the worker thread opens table files by path)",
    );
  }
  resolved.compactionWorker = worker;
  return Object.freeze(resolved);
}
