/**
 * What flush and compaction jobs need, passed in so that the jobs stay plain functions. The
 * merge part of a compaction only needs a MergeContext, which a worker thread can provide on
 * its own (its own filesystem handle and table readers); installing the result needs the
 * database's JobContext.
 */

import type { FileSystem } from "../fs/types.js";
import type { InternalIterator } from "../iterator/types.js";
import type { FileMeta } from "../manifest/file-meta.js";
import type { VersionSet } from "../manifest/version-set.js";
import type { ResolvedDbOptions } from "../options.js";
import type { TableCache } from "../table-cache.js";

export interface JobStats {
  flushes: number;
  flushBytesWritten: number;
  compactions: number;
  trivialMoves: number;
  compactionBytesRead: number;
  compactionBytesWritten: number;
  compactionEntriesDropped: number;
  /** Compactions whose merge ran on the worker thread. */
  workerCompactions: number;
}

export function emptyJobStats(): JobStats {
  return {
    flushes: 0,
    flushBytesWritten: 0,
    compactions: 0,
    trivialMoves: 0,
    compactionBytesRead: 0,
    compactionBytesWritten: 0,
    compactionEntriesDropped: 0,
    workerCompactions: 0,
  };
}

/** The table-building settings (plain data, so they can be posted to a worker). */
export interface TableSettings {
  blockSizeBytes: number;
  blockRestartInterval: number;
  bloomBitsPerKey: number;
  targetFileSizeBytes: number;
  backgroundSliceMs: number;
}

export function tableSettingsOf(o: ResolvedDbOptions): TableSettings {
  return {
    blockSizeBytes: o.blockSizeBytes,
    blockRestartInterval: o.blockRestartInterval,
    bloomBitsPerKey: o.bloomBitsPerKey,
    targetFileSizeBytes: o.targetFileSizeBytes,
    backgroundSliceMs: o.backgroundSliceMs,
  };
}

/** Enough to write table files. */
export interface OutputContext {
  readonly fs: FileSystem;
  readonly dir: string;
  readonly table: TableSettings;
  /** File numbers being written by running jobs: never deleted as obsolete. */
  readonly pendingOutputs: Set<number>;
  /** A fresh file number (a worker draws from numbers reserved for its job). */
  newFileNumber(): number;
  /** False when a worker used up its reserved numbers: the merge then stops cutting files. */
  canAllocate(): boolean;
  /** True once close() started: long jobs stop at the next slice boundary. */
  isClosing(): boolean;
}

/** Enough to merge tables into new tables. */
export interface MergeContext extends OutputContext {
  /**
   * A one-pass forward iterator over a table whose values are valid only until it moves (a
   * scan iterator: compactions do not fill the block cache and reuse their read buffers).
   */
  iterator(file: FileMeta): InternalIterator;
}

/** The database side: installing results in the manifest, opening readers, counting. */
export interface JobContext extends MergeContext {
  readonly options: ResolvedDbOptions;
  readonly versions: VersionSet;
  readonly tables: TableCache;
  readonly stats: JobStats;
  /** Oldest sequence some reader may still ask for (oldest snapshot, else the last sequence). */
  smallestSnapshot(): number;
}

/** Thrown inside a job that noticed close(); the job's outputs are removed. */
export class JobAborted extends Error {
  override name = "JobAborted";
}
