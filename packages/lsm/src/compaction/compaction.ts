/**
 * Choosing what to compact (leveldb's PickCompaction / CompactRange, simplified):
 *
 * - The version's score picks the level: L0 by file count over l0CompactionTrigger, deeper
 *   levels by bytes over their budget (maxBytesForLevelBase * multiplier^(level-1)).
 * - L0: the oldest L0 file plus every L0 file overlapping it (transitively), since they overlap.
 *   L1+: the first file after the level's compact pointer, so successive compactions rotate
 *   through the key space.
 * - Plus every file of level+1 overlapping that key range. Grandparents (level+2) overlapping
 *   are recorded so outputs can be cut before one output overlaps too much of them.
 *
 * Compaction outputs are only cut between user keys, so a user key never spans two files of a
 * level; that keeps "at most one file per level >= 1 holds a key" true without leveldb's
 * boundary-input expansion.
 */

import { extractUserKey } from "../internal-key.js";
import type { FileMeta } from "../manifest/file-meta.js";
import type { Version } from "../manifest/version.js";
import { userKeyRange } from "../manifest/version.js";
import type { VersionSet } from "../manifest/version-set.js";
import { compareBytes } from "../util/index.js";

export interface Compaction {
  /** Input level. */
  readonly level: number;
  /** Level of the outputs: level + 1, or level itself for an in-place rewrite of the last level. */
  readonly outputLevel: number;
  readonly inputs: readonly FileMeta[];
  readonly nextInputs: readonly FileMeta[];
  readonly grandparents: readonly FileMeta[];
  readonly manual: boolean;
  /** Version the inputs were picked from (referenced for the compaction's duration). */
  readonly version: Version;
  /** User-key range of all inputs. */
  readonly smallest: Uint8Array;
  readonly largest: Uint8Array;
}

/** A single input file with nothing below it can be moved down by editing the manifest only. */
export function isTrivialMove(c: Compaction, maxGrandparentOverlapBytes: number): boolean {
  if (c.manual || c.inputs.length !== 1 || c.nextInputs.length !== 0) return false;
  if (c.outputLevel === c.level) return false;
  let overlap = 0;
  for (const f of c.grandparents) overlap += f.size;
  return overlap <= maxGrandparentOverlapBytes;
}

export function pickCompaction(vs: VersionSet): Compaction | undefined {
  const v = vs.current;
  if (v.compactionScore < 1 || v.compactionLevel < 0) return undefined;
  const level = v.compactionLevel;
  const files = v.files[level]!;
  if (files.length === 0) return undefined;
  let inputs: FileMeta[];
  if (level === 0) {
    // Oldest L0 file (L0 is kept newest first), widened to all L0 files overlapping it.
    const oldest = files[files.length - 1]!;
    inputs = v.overlappingInputs(
      0,
      extractUserKey(oldest.smallest),
      extractUserKey(oldest.largest),
    );
  } else {
    const ptr = vs.compactPointers[level];
    let pick = files[0]!;
    if (ptr !== undefined) {
      const ptrUser = extractUserKey(ptr);
      const next = files.find((f) => compareBytes(extractUserKey(f.largest), ptrUser) > 0);
      if (next !== undefined) pick = next;
    }
    inputs = [pick];
  }
  return setup(vs, v, level, level + 1, inputs, false);
}

/**
 * A manual compaction of everything in `level` overlapping [begin, end] (user keys, undefined =
 * unbounded) into `outputLevel` (level + 1, or level itself to rewrite the deepest level in place,
 * which is how compactRange() drops garbage that nothing above it overlaps); undefined if the
 * level has nothing there.
 */
export function manualCompaction(
  vs: VersionSet,
  level: number,
  outputLevel: number,
  begin: Uint8Array | undefined,
  end: Uint8Array | undefined,
): Compaction | undefined {
  const v = vs.current;
  const inputs = v.overlappingInputs(level, begin, end);
  if (inputs.length === 0) return undefined;
  return setup(vs, v, level, outputLevel, inputs, true);
}

function setup(
  vs: VersionSet,
  v: Version,
  level: number,
  outputLevel: number,
  inputs: FileMeta[],
  manual: boolean,
): Compaction {
  const [smallest, largest] = userKeyRange(inputs);
  const nextInputs =
    outputLevel !== level && outputLevel < v.numLevels
      ? v.overlappingInputs(outputLevel, smallest, largest)
      : [];
  const all = nextInputs.length > 0 ? [...inputs, ...nextInputs] : inputs;
  const [allSmallest, allLargest] = userKeyRange(all);
  const grandparents =
    outputLevel + 1 < v.numLevels && outputLevel !== level
      ? v.overlappingInputs(outputLevel + 1, allSmallest, allLargest)
      : [];
  vs.ref(v);
  return {
    level,
    outputLevel,
    inputs,
    nextInputs,
    grandparents,
    manual,
    version: v,
    smallest: allSmallest,
    largest: allLargest,
  };
}
