/**
 * Concatenates the tables of one level >= 1 (sorted, non-overlapping) into one iterator, opening
 * a table only when the iteration reaches it (leveldb's two-level iterator over the level's file
 * list). Only one table iterator is open at a time.
 */

import type { FileMeta } from "../manifest/file-meta.js";
import type { Comparator, InternalIterator } from "./types.js";

export type TableOpener = (file: FileMeta) => InternalIterator;

export class LevelIterator implements InternalIterator {
  private index = -1;
  private iter: InternalIterator | null = null;

  constructor(
    private readonly compare: Comparator,
    private readonly files: readonly FileMeta[],
    private readonly open: TableOpener,
  ) {}

  valid(): boolean {
    return this.iter?.valid() === true;
  }

  seekToFirst(): void {
    this.setFile(0);
    this.iter?.seekToFirst();
    this.skipEmptyForward();
  }

  seekToLast(): void {
    this.setFile(this.files.length - 1);
    this.iter?.seekToLast();
    this.skipEmptyBackward();
  }

  seek(target: Uint8Array): void {
    // First file whose largest key >= target.
    let lo = 0;
    let hi = this.files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.files[mid]!.largest, target) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.setFile(lo);
    this.iter?.seek(target);
    this.skipEmptyForward();
  }

  next(): void {
    this.iter!.next();
    this.skipEmptyForward();
  }

  prev(): void {
    this.iter!.prev();
    this.skipEmptyBackward();
  }

  key(): Uint8Array {
    return this.iter!.key();
  }

  value(): Uint8Array {
    return this.iter!.value();
  }

  close(): void {
    this.setFile(-1);
  }

  private skipEmptyForward(): void {
    while (this.iter !== null && !this.iter.valid()) {
      if (this.index + 1 >= this.files.length) {
        this.setFile(-1);
        return;
      }
      this.setFile(this.index + 1);
      this.iter!.seekToFirst();
    }
  }

  private skipEmptyBackward(): void {
    while (this.iter !== null && !this.iter.valid()) {
      if (this.index <= 0) {
        this.setFile(-1);
        return;
      }
      this.setFile(this.index - 1);
      this.iter!.seekToLast();
    }
  }

  private setFile(i: number): void {
    if (i === this.index && this.iter !== null) return;
    this.iter?.close?.();
    this.iter = null;
    if (i < 0 || i >= this.files.length) {
      this.index = -1;
      return;
    }
    this.index = i;
    this.iter = this.open(this.files[i]!);
  }
}
