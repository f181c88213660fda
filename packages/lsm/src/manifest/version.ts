/**
 * A Version is an immutable snapshot of which table files make up each level. Readers and
 * iterators pin the version they started with (ref/unref), so that a compaction finishing in the
 * meantime does not delete files they still read; the version set deletes a file only when no
 * live version lists it.
 *
 * Level 0 files may overlap each other (each is one flushed memtable); they are kept newest first
 * (highest file number first). Levels >= 1 are sorted by smallest key and never overlap, and a
 * user key never spans two files of a level (compaction only cuts files between user keys), so a
 * point lookup reads at most one file per level >= 1.
 */

import { compareInternalKeys, compareUserKeyOf, extractUserKey } from "../internal-key.js";
import { LevelIterator } from "../iterator/level-iterator.js";
import type { InternalIterator } from "../iterator/types.js";
import type { LookupResult } from "../memtable/memtable.js";
import { compareBytes } from "../util/index.js";
import type { FileMeta } from "./file-meta.js";

/** What a version needs from the table cache. All synchronous. */
export interface TableAccess {
  /**
   * Looks `userKey` up in `file` at the sequence encoded in `lookupKey` (an internal key);
   * `keyHash` is bloomHash(userKey), computed once per lookup.
   * Returns true if the table decided the answer (found or deleted), written to `out`.
   */
  get(
    file: FileMeta,
    lookupKey: Uint8Array,
    userKey: Uint8Array,
    keyHash: number,
    out: LookupResult,
  ): boolean;
  iterator(file: FileMeta, fillCache: boolean): InternalIterator;
}

export class Version {
  refs = 0;
  /** Level with the highest compaction score and that score (>= 1 means compaction needed). */
  compactionLevel = -1;
  compactionScore = 0;

  constructor(readonly files: readonly (readonly FileMeta[])[]) {}

  get numLevels(): number {
    return this.files.length;
  }

  levelBytes(level: number): number {
    let n = 0;
    for (const f of this.files[level]!) n += f.size;
    return n;
  }

  /** Point lookup through the levels; true if some table decided it. */
  get(
    tables: TableAccess,
    userKey: Uint8Array,
    lookupKey: Uint8Array,
    keyHash: number,
    out: LookupResult,
  ): boolean {
    const l0 = this.files[0]!;
    for (let i = 0; i < l0.length; i++) {
      const f = l0[i]!;
      if (compareUserKeyOf(f.smallest, userKey) > 0 || compareUserKeyOf(f.largest, userKey) < 0) {
        continue;
      }
      if (tables.get(f, lookupKey, userKey, keyHash, out)) return true;
    }
    for (let level = 1; level < this.files.length; level++) {
      const files = this.files[level]!;
      if (files.length === 0) continue;
      const i = findFile(files, lookupKey);
      if (i >= files.length) continue;
      const f = files[i]!;
      if (compareUserKeyOf(f.smallest, userKey) > 0) continue;
      if (tables.get(f, lookupKey, userKey, keyHash, out)) return true;
    }
    return false;
  }

  /** Iterators over every table, in the order the merging iterator wants (newest first). */
  iterators(tables: TableAccess, fillCache: boolean): InternalIterator[] {
    const out: InternalIterator[] = [];
    for (const f of this.files[0]!) out.push(tables.iterator(f, fillCache));
    for (let level = 1; level < this.files.length; level++) {
      const files = this.files[level]!;
      if (files.length === 0) continue;
      out.push(new LevelIterator(compareInternalKeys, files, (f) => tables.iterator(f, fillCache)));
    }
    return out;
  }

  /**
   * Files of `level` whose user-key range intersects [begin, end] (user keys; undefined = open).
   * For level 0 the range is widened to the union of the overlapping files, as leveldb does, since
   * L0 files overlap each other and must be compacted together.
   */
  overlappingInputs(
    level: number,
    begin: Uint8Array | undefined,
    end: Uint8Array | undefined,
  ): FileMeta[] {
    const files = this.files[level]!;
    let lo = begin;
    let hi = end;
    const out: FileMeta[] = [];
    for (let i = 0; i < files.length; ) {
      const f = files[i++]!;
      const fs = extractUserKey(f.smallest);
      const fl = extractUserKey(f.largest);
      if (lo !== undefined && compareBytes(fl, lo) < 0) continue;
      if (hi !== undefined && compareBytes(fs, hi) > 0) continue;
      out.push(f);
      if (level === 0) {
        // Widen and restart if this file extends the range.
        let restart = false;
        if (lo !== undefined && compareBytes(fs, lo) < 0) {
          lo = fs;
          restart = true;
        }
        if (hi !== undefined && compareBytes(fl, hi) > 0) {
          hi = fl;
          restart = true;
        }
        if (restart) {
          out.length = 0;
          i = 0;
        }
      }
    }
    return out;
  }

  /** True if some file of `level` overlaps the user-key range [smallest, largest]. */
  overlapInLevel(level: number, smallest: Uint8Array, largest: Uint8Array): boolean {
    const files = this.files[level]!;
    if (level === 0) {
      for (const f of files) {
        if (
          compareBytes(extractUserKey(f.largest), smallest) >= 0 &&
          compareBytes(extractUserKey(f.smallest), largest) <= 0
        ) {
          return true;
        }
      }
      return false;
    }
    const i = findFileByUserKey(files, smallest);
    return i < files.length && compareBytes(extractUserKey(files[i]!.smallest), largest) <= 0;
  }

  /** Sum of the sizes of the files of `level` overlapping [smallest, largest] (user keys). */
  overlapBytes(level: number, smallest: Uint8Array, largest: Uint8Array): number {
    let n = 0;
    for (const f of this.overlappingInputs(level, smallest, largest)) n += f.size;
    return n;
  }

  allFileNumbers(into: Set<number>): void {
    for (const level of this.files) for (const f of level) into.add(f.number);
  }
}

/** Index of the first file whose largest internal key >= ikey (files sorted, non-overlapping). */
export function findFile(files: readonly FileMeta[], ikey: Uint8Array): number {
  let lo = 0;
  let hi = files.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareInternalKeys(files[mid]!.largest, ikey) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first file whose largest user key >= userKey. */
export function findFileByUserKey(files: readonly FileMeta[], userKey: Uint8Array): number {
  let lo = 0;
  let hi = files.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareUserKeyOf(files[mid]!.largest, userKey) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Smallest and largest user keys over some files. */
export function userKeyRange(files: readonly FileMeta[]): [Uint8Array, Uint8Array] {
  let smallest = files[0]!.smallest;
  let largest = files[0]!.largest;
  for (const f of files) {
    if (compareInternalKeys(f.smallest, smallest) < 0) smallest = f.smallest;
    if (compareInternalKeys(f.largest, largest) > 0) largest = f.largest;
  }
  return [extractUserKey(smallest), extractUserKey(largest)];
}
