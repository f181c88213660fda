/**
 * Running one compaction (leveldb's DoCompactionWork), in two parts:
 *
 * - mergeCompaction: merge the input tables, drop what no reader can see, write synced
 *   output tables. Needs only a MergeContext, so it runs inline or on the worker thread.
 * - installCompaction: on the database side, sync the directory and swap inputs for outputs in
 *   one version edit, then open the outputs' readers.
 *
 * Drop rules, for the entries of one user key seen newest first:
 * - an entry is shadowed if a newer entry of the same key has a sequence <= the oldest snapshot
 *   (every reader sees that newer entry instead);
 * - a deletion with sequence <= the oldest snapshot is dropped when no level below the output
 *   holds the key (nothing older for it to hide).
 *
 * Outputs are cut at targetFileSizeBytes or when they would overlap more than ten target files
 * of the grandparent level, but only between user keys (see compaction.ts). The merge runs in
 * slices (Slicer) so that, inline, the event loop keeps serving requests.
 */

import {
  compareInternalKeys,
  internalKeySequence,
  TRAILER_BYTES,
  ValueType,
} from "../internal-key.js";
import { LevelIterator } from "../iterator/level-iterator.js";
import { MergingIterator } from "../iterator/merging-iterator.js";
import type { InternalIterator } from "../iterator/types.js";
import type { FileMeta } from "../manifest/file-meta.js";
import { VersionEdit } from "../manifest/version-edit.js";
import { compareBytesRange } from "../util/index.js";
import type { Compaction } from "./compaction.js";
import { JobAborted, type JobContext, type MergeContext } from "./job-context.js";
import { Slicer } from "./slicer.js";
import { TableOutput } from "./table-output.js";

/** A compaction as plain data: what the merge needs (posted as is to the worker). */
export interface MergeSpec {
  level: number;
  outputLevel: number;
  inputs: FileMeta[];
  nextInputs: FileMeta[];
  grandparents: FileMeta[];
  /** Files of the levels below the output level (index 0 = outputLevel + 1). */
  deeper: FileMeta[][];
  /** Entries shadowed at or below this sequence can be dropped. */
  smallestSnapshot: number;
}

export interface MergeResult {
  outputs: FileMeta[];
  dropped: number;
}

export function mergeSpecOf(c: Compaction, smallestSnapshot: number): MergeSpec {
  return {
    level: c.level,
    outputLevel: c.outputLevel,
    inputs: [...c.inputs],
    nextInputs: [...c.nextInputs],
    grandparents: [...c.grandparents],
    deeper: c.version.files.slice(c.outputLevel + 1).map((l) => [...l]),
    smallestSnapshot,
  };
}

/** Moves a single file down a level by editing the manifest. */
export async function runTrivialMove(ctx: JobContext, c: Compaction): Promise<void> {
  const f = c.inputs[0]!;
  const edit = new VersionEdit();
  edit.deleteFile(c.level, f.number);
  edit.addFile(c.outputLevel, f);
  edit.compactPointers.push({ level: c.level, key: f.largest });
  await ctx.versions.logAndApply(edit);
  ctx.stats.trivialMoves++;
}

/** Merge and install on this thread. */
export async function runCompaction(ctx: JobContext, c: Compaction): Promise<void> {
  const result = await mergeCompaction(ctx, mergeSpecOf(c, ctx.smallestSnapshot()));
  try {
    await installCompaction(ctx, c, result);
  } catch (e) {
    for (const f of result.outputs) ctx.tables.evict(f.number);
    throw e;
  } finally {
    for (const f of result.outputs) ctx.pendingOutputs.delete(f.number);
  }
}

/**
 * Writes the merged, garbage-free contents of the inputs to new synced tables. On failure or
 * abort the outputs are removed. The outputs' numbers stay in ctx.pendingOutputs: the caller
 * removes them once they are installed (or dropped).
 */
export async function mergeCompaction(ctx: MergeContext, spec: MergeSpec): Promise<MergeResult> {
  const slicer = new Slicer(ctx.table.backgroundSliceMs);
  const target = ctx.table.targetFileSizeBytes;
  const maxGrandparentOverlap = 10 * target;
  const smallestSnapshot = spec.smallestSnapshot;

  const children: InternalIterator[] = [];
  if (spec.level === 0) {
    for (const f of spec.inputs) children.push(ctx.iterator(f));
  } else {
    children.push(new LevelIterator(compareInternalKeys, spec.inputs, (f) => ctx.iterator(f)));
  }
  if (spec.nextInputs.length > 0) {
    children.push(new LevelIterator(compareInternalKeys, spec.nextInputs, (f) => ctx.iterator(f)));
  }
  const input = new MergingIterator(compareInternalKeys, children);

  // Per deeper level, an index that only moves forward (keys arrive in order).
  const deeper = spec.deeper;
  const basePointers = new Array<number>(deeper.length).fill(0);
  /** Whether no level below the output holds the user key ikey[0, kl). */
  const isBaseLevelForKey = (ikey: Uint8Array, kl: number): boolean => {
    for (let d = 0; d < deeper.length; d++) {
      const files = deeper[d]!;
      let i = basePointers[d]!;
      while (i < files.length) {
        const f = files[i]!;
        if (compareBytesRange(ikey, 0, kl, f.largest, 0, f.largest.length - TRAILER_BYTES) <= 0) {
          if (
            compareBytesRange(ikey, 0, kl, f.smallest, 0, f.smallest.length - TRAILER_BYTES) >= 0
          ) {
            basePointers[d] = i;
            return false;
          }
          break;
        }
        i++;
      }
      basePointers[d] = i;
    }
    return true;
  };

  let gpIndex = 0;
  let gpOverlap = 0;
  let seenKey = false;
  const shouldStopBefore = (ikey: Uint8Array): boolean => {
    const gps = spec.grandparents;
    while (gpIndex < gps.length && compareInternalKeys(ikey, gps[gpIndex]!.largest) > 0) {
      if (seenKey) gpOverlap += gps[gpIndex]!.size;
      gpIndex++;
    }
    seenKey = true;
    if (gpOverlap > maxGrandparentOverlap) {
      gpOverlap = 0;
      return true;
    }
    return false;
  };

  const created: TableOutput[] = [];
  // Finished outputs sync in the background while the merge fills the next one.
  const finishing: Promise<FileMeta>[] = [];
  let out: TableOutput | undefined;
  // The current user key is the first kl bytes of curKey (an immutable internal key).
  let curKey: Uint8Array | undefined;
  let curLen = 0;
  let lastSeqForKey = Number.MAX_SAFE_INTEGER;
  let n = 0;
  let dropped = 0;
  try {
    for (input.seekToFirst(); input.valid(); input.next()) {
      if ((++n & 63) === 0 && slicer.due()) {
        await slicer.yield();
        if (ctx.isClosing()) throw new JobAborted("closing");
      }
      const ikey = input.key();
      const kl = ikey.length - TRAILER_BYTES;
      if (curKey === undefined || compareBytesRange(ikey, 0, kl, curKey, 0, curLen) !== 0) {
        // Cut only here, between user keys.
        const stop = shouldStopBefore(ikey);
        if (out !== undefined && (stop || out.estimatedSize() >= target) && ctx.canAllocate()) {
          const done = out.finish();
          done.catch(() => {}); // observed by Promise.all below
          finishing.push(done);
          out = undefined;
        }
        curKey = ikey;
        curLen = kl;
        lastSeqForKey = Number.MAX_SAFE_INTEGER;
      }
      const seq = internalKeySequence(ikey);
      let drop = false;
      if (lastSeqForKey <= smallestSnapshot) {
        drop = true;
      } else if (
        ikey[kl] === ValueType.Deletion &&
        seq <= smallestSnapshot &&
        isBaseLevelForKey(ikey, kl)
      ) {
        drop = true;
      }
      lastSeqForKey = seq;
      if (drop) {
        dropped++;
        continue;
      }
      if (out === undefined) {
        out = await TableOutput.create(ctx);
        created.push(out);
      }
      out.add(ikey, input.value());
    }
    if (out !== undefined) finishing.push(out.finish());
    const outputs = await Promise.all(finishing);
    input.close();
    return { outputs, dropped };
  } catch (e) {
    input.close();
    await Promise.allSettled(finishing);
    for (const o of created) await o.abandon(ctx);
    throw e;
  }
}

/**
 * Records a merge's result: directory sync (the outputs' entries must be durable before the
 * manifest names them), one edit swapping inputs for outputs, then the outputs' readers.
 * After a failed manifest write the edit may or may not be on disk, so the outputs are kept
 * (the database stops in an error state and deletes nothing until it is reopened).
 */
export async function installCompaction(
  ctx: JobContext,
  c: Compaction,
  result: MergeResult,
): Promise<void> {
  const outputs = result.outputs;
  // Opening the readers first also checks each output's footer, index and filter.
  for (const f of outputs) await ctx.tables.open(f);
  if (outputs.length > 0) await ctx.fs.syncDir(ctx.dir);
  const edit = new VersionEdit();
  for (const f of c.inputs) edit.deleteFile(c.level, f.number);
  for (const f of c.nextInputs) edit.deleteFile(c.outputLevel, f.number);
  for (const f of outputs) edit.addFile(c.outputLevel, f);
  let largest = c.inputs[0]!.largest;
  for (const f of c.inputs) if (compareInternalKeys(f.largest, largest) > 0) largest = f.largest;
  edit.compactPointers.push({ level: c.level, key: largest });
  await ctx.versions.logAndApply(edit);
  let read = 0;
  for (const f of c.inputs) read += f.size;
  for (const f of c.nextInputs) read += f.size;
  ctx.stats.compactions++;
  ctx.stats.compactionBytesRead += read;
  for (const f of outputs) ctx.stats.compactionBytesWritten += f.size;
  ctx.stats.compactionEntriesDropped += result.dropped;
}
