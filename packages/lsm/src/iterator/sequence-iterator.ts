/**
 * The user's view of the merged internal stream at one sequence number (leveldb's DBIter): for
 * each user key only the newest entry with sequence <= `sequence` counts, and keys whose newest
 * visible entry is a deletion are skipped. Works in both directions and can switch direction.
 *
 * In forward mode the internal iterator sits on the entry being returned. In reverse mode it sits
 * just before all entries of the returned key, which is then held in savedKey/savedValue.
 *
 * Keys are kept as whole internal keys (never sliced into user-key views: a typed-array view
 * costs an allocation per step) and compared on their user-key part. Internal iterators promise
 * that the arrays they return are never mutated, so holding them is safe.
 */

import {
  compareUserKeyOf,
  compareUserKeysOf,
  internalKeySequence,
  makeInternalKey,
  TRAILER_BYTES,
  TYPE_FOR_SEEK,
  ValueType,
} from "../internal-key.js";
import type { InternalIterator } from "./types.js";

export class SequenceIterator {
  private forward = true;
  private isValid = false;
  /** An internal key whose user-key part is the key to skip (forward) or the current one (reverse). */
  private savedKey: Uint8Array | null = null;
  private savedValue: Uint8Array | null = null;

  constructor(
    private readonly iter: InternalIterator,
    private readonly sequence: number,
  ) {}

  valid(): boolean {
    return this.isValid;
  }

  /** The current entry's internal key; its first length - 8 bytes are the user key. */
  internalKey(): Uint8Array {
    return this.forward ? this.iter.key() : this.savedKey!;
  }

  value(): Uint8Array {
    return this.forward ? this.iter.value() : this.savedValue!;
  }

  /** Compares the current user key with `userKey`. */
  compareKey(userKey: Uint8Array): number {
    return compareUserKeyOf(this.internalKey(), userKey);
  }

  seekToFirst(): void {
    this.forward = true;
    this.savedValue = null;
    this.iter.seekToFirst();
    if (this.iter.valid()) this.findNextUserEntry(false);
    else this.isValid = false;
  }

  seekToLast(): void {
    this.forward = false;
    this.savedValue = null;
    this.iter.seekToLast();
    this.findPrevUserEntry();
  }

  /** Positions at the first visible key >= target (a user key). */
  seek(target: Uint8Array): void {
    this.forward = true;
    this.savedValue = null;
    this.savedKey = null;
    this.iter.seek(makeInternalKey(target, this.sequence, TYPE_FOR_SEEK));
    if (this.iter.valid()) this.findNextUserEntry(false);
    else this.isValid = false;
  }

  next(): void {
    if (!this.forward) {
      // The internal iterator is just before the entries of key(); step into them and let the
      // skipping below pass over them.
      this.forward = true;
      if (!this.iter.valid()) this.iter.seekToFirst();
      else this.iter.next();
      if (!this.iter.valid()) {
        this.isValid = false;
        this.savedKey = null;
        return;
      }
      // savedKey already holds the key to skip.
    } else {
      this.savedKey = this.iter.key();
      this.iter.next();
      if (!this.iter.valid()) {
        this.isValid = false;
        this.savedKey = null;
        return;
      }
    }
    this.findNextUserEntry(true);
  }

  prev(): void {
    if (this.forward) {
      // Back up until the user key changes, so the internal iterator sits before all entries
      // of the current key, then use the reverse scan.
      this.savedKey = this.iter.key();
      for (;;) {
        this.iter.prev();
        if (!this.iter.valid()) {
          this.isValid = false;
          this.savedKey = null;
          this.savedValue = null;
          return;
        }
        if (compareUserKeysOf(this.iter.key(), this.savedKey) < 0) break;
      }
      this.forward = false;
    }
    this.findPrevUserEntry();
  }

  /** Forward: from the current internal entry, find the next visible user entry. */
  private findNextUserEntry(skipping: boolean): void {
    const it = this.iter;
    let skip = this.savedKey;
    do {
      const ikey = it.key();
      if (internalKeySequence(ikey) <= this.sequence) {
        const type = ikey[ikey.length - TRAILER_BYTES];
        if (type === ValueType.Deletion) {
          // Hide every older entry of this key.
          skip = ikey;
          skipping = true;
        } else if (!(skipping && skip !== null && compareUserKeysOf(ikey, skip) <= 0)) {
          this.isValid = true;
          this.savedKey = null;
          return;
        }
      }
      it.next();
    } while (it.valid());
    this.savedKey = null;
    this.isValid = false;
  }

  /** Reverse: scan backwards collecting the newest visible entry of the previous user key. */
  private findPrevUserEntry(): void {
    const it = this.iter;
    let valueType: number = ValueType.Deletion;
    if (it.valid()) {
      do {
        const ikey = it.key();
        if (internalKeySequence(ikey) <= this.sequence) {
          if (valueType !== ValueType.Deletion && compareUserKeysOf(ikey, this.savedKey!) < 0) {
            // An entry of an earlier key: the saved one is the answer.
            break;
          }
          valueType = ikey[ikey.length - TRAILER_BYTES]!;
          if (valueType === ValueType.Deletion) {
            this.savedKey = null;
            this.savedValue = null;
          } else {
            this.savedKey = ikey;
            // A copy: the scan moves on, and a table iterator's value is only valid while it
            // stays on its block (the cache may then reuse the block's buffer).
            this.savedValue = Uint8Array.prototype.slice.call(it.value());
          }
        }
        it.prev();
      } while (it.valid());
    }
    if (valueType === ValueType.Deletion) {
      this.isValid = false;
      this.savedKey = null;
      this.savedValue = null;
      this.forward = true;
    } else {
      this.isValid = true;
    }
  }

  close(): void {
    this.iter.close?.();
  }
}
