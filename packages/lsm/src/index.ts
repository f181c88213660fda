/**
 * @distkv/lsm public surface.
 *
 * For users: open(), Db, WriteBatch, Snapshot, DbIterator, the options and stats types, the
 * error classes with their is*Error() helpers, and the filesystems (NodeFileSystem is the
 * default; MemoryFileSystem simulates power loss for tests; FaultInjectingFileSystem injects
 * I/O errors).
 * Everything else in src/ is internal and may change without notice.
 */

export type { DbStats, LevelStats, ReadOptions } from "./db.js";
export { Db, open } from "./db.js";
export type { Entry, IteratorOptions } from "./db-iterator.js";
export { DbIterator, prefixSuccessor } from "./db-iterator.js";
export {
  ClosedError,
  CorruptionError,
  InvalidArgumentError,
  IoError,
  isClosedError,
  isCorruptionError,
  isInvalidArgumentError,
  isIoError,
  isLockedError,
  isLsmError,
  isNotFoundFileError,
  LockedError,
  LsmError,
  NotFoundFileError,
} from "./errors.js";
export type {
  CrashOptions,
  FaultOp,
  FaultRule,
  FileHandle,
  FileLock,
  FileSystem,
} from "./fs/index.js";
export { FaultInjectingFileSystem, MemoryFileSystem, NodeFileSystem } from "./fs/index.js";
export type { DbOptions, ResolvedDbOptions, WriteOptions } from "./options.js";
export {
  DEFAULT_BACKGROUND_SLICE_MS,
  DEFAULT_BLOCK_CACHE_BYTES,
  DEFAULT_BLOCK_RESTART_INTERVAL,
  DEFAULT_BLOCK_SIZE_BYTES,
  DEFAULT_BLOOM_BITS_PER_KEY,
  DEFAULT_L0_COMPACTION_TRIGGER,
  DEFAULT_L0_SLOWDOWN_TRIGGER,
  DEFAULT_L0_STOP_TRIGGER,
  DEFAULT_LEVEL_SIZE_MULTIPLIER,
  DEFAULT_MAX_BYTES_FOR_LEVEL_BASE,
  DEFAULT_MAX_IMMUTABLE_MEMTABLES,
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_MANIFEST_BYTES,
  DEFAULT_MAX_OPEN_FILES,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_NUM_LEVELS,
  DEFAULT_SLOWDOWN_DELAY_MS,
  DEFAULT_TARGET_FILE_SIZE_BYTES,
  DEFAULT_WRITE_BUFFER_BYTES,
  resolveDbOptions,
} from "./options.js";
export { Snapshot } from "./snapshot.js";
export { WriteBatch } from "./write-batch.js";
