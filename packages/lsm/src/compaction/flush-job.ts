/**
 * Flushing a frozen memtable to a table (leveldb's WriteLevel0Table). The table usually lands in
 * level 0; when it overlaps nothing in L0 and L1 it may be placed up to level 2 directly (as
 * leveldb does), which saves rewriting sequentially inserted data twice.
 */

import { joinPath, tableFileName } from "../filenames.js";
import { extractUserKey } from "../internal-key.js";
import type { FileMeta } from "../manifest/file-meta.js";
import type { Version } from "../manifest/version.js";
import { VersionEdit } from "../manifest/version-edit.js";
import type { Memtable } from "../memtable/memtable.js";
import { JobAborted, type JobContext } from "./job-context.js";
import { Slicer } from "./slicer.js";
import { TableOutput } from "./table-output.js";

/** Deepest level a flush may place its table in. */
const MAX_MEM_COMPACT_LEVEL = 2;

/**
 * Writes `mem` to a new synced table, opens its reader (which also verifies it) and returns its
 * description. The file number stays in pendingOutputs until the caller has applied an edit
 * naming it (or dropped it). The caller syncs the directory before recording it.
 */
export async function writeLevel0Table(ctx: JobContext, mem: Memtable): Promise<FileMeta> {
  const slicer = new Slicer(ctx.table.backgroundSliceMs);
  const out = await TableOutput.create(ctx);
  try {
    const it = mem.iterator();
    let n = 0;
    for (it.seekToFirst(); it.valid(); it.next()) {
      out.add(it.key(), it.value());
      if ((++n & 63) === 0 && slicer.due()) {
        await slicer.yield();
        if (ctx.isClosing()) throw new JobAborted("closing");
      }
    }
    const meta = await out.finish();
    await ctx.tables.open(meta);
    ctx.stats.flushBytesWritten += meta.size;
    return meta;
  } catch (e) {
    ctx.tables.evict(out.number);
    await out.abandon(ctx);
    throw e;
  }
}

export async function flushMemtable(
  ctx: JobContext,
  mem: Memtable,
  /** The WAL number of the memtable after `mem`: logs below it are no longer needed. */
  nextLogNumber: number,
  /**
   * Asked at the moment the level is chosen. Returns a release function if the table may go
   * below L0 (the database then holds back the picking of compactions until release, so no
   * compaction can be chosen from a version that lacks this table and write over its range),
   * or undefined to keep it in L0 (a compaction is running: its outputs are not visible yet).
   */
  reservePushDown: () => (() => void) | undefined,
): Promise<void> {
  const meta = await writeLevel0Table(ctx, mem);
  try {
    // The table's directory entry must be durable before the manifest names it.
    await ctx.fs.syncDir(ctx.dir);
  } catch (e) {
    ctx.tables.evict(meta.number);
    await ctx.fs.remove(tablePathOf(ctx, meta)).catch(() => {});
    ctx.pendingOutputs.delete(meta.number);
    throw e;
  }
  const edit = new VersionEdit();
  let release = reservePushDown();
  let level = 0;
  if (release !== undefined) {
    level = pickLevelForMemtableOutput(
      ctx,
      ctx.versions.current,
      extractUserKey(meta.smallest),
      extractUserKey(meta.largest),
    );
    if (level === 0) {
      release();
      release = undefined;
    }
  }
  edit.addFile(level, meta);
  edit.logNumber = nextLogNumber;
  try {
    await ctx.versions.logAndApply(edit);
  } finally {
    // On failure the edit may or may not be on disk: the table is kept (the database stops in
    // an error state and deletes nothing until reopened).
    ctx.pendingOutputs.delete(meta.number);
    release?.();
  }
  ctx.stats.flushes++;
}

function tablePathOf(ctx: JobContext, meta: FileMeta): string {
  return joinPath(ctx.dir, tableFileName(meta.number));
}

function pickLevelForMemtableOutput(
  ctx: JobContext,
  v: Version,
  smallest: Uint8Array,
  largest: Uint8Array,
): number {
  let level = 0;
  if (v.overlapInLevel(0, smallest, largest)) return 0;
  const maxGrandparentOverlap = 10 * ctx.options.targetFileSizeBytes;
  while (level < MAX_MEM_COMPACT_LEVEL && level + 1 < v.numLevels) {
    if (v.overlapInLevel(level + 1, smallest, largest)) break;
    if (
      level + 2 < v.numLevels &&
      v.overlapBytes(level + 2, smallest, largest) > maxGrandparentOverlap
    ) {
      break;
    }
    level++;
  }
  return level;
}
