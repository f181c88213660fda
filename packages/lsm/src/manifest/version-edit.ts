/**
 * A version edit: the delta between two versions, appended as one record to the MANIFEST log.
 * Replaying every edit of a manifest in order rebuilds the current version.
 *
 * ON-DISK FORMAT (do not change tag numbers; they match leveldb's where they overlap):
 *   a sequence of fields, each a varint32 tag followed by its payload
 *   1 comparator name      length-prefixed UTF-8
 *   2 log number           varint64   WAL files numbered below it are fully in tables
 *   3 next file number     varint64
 *   4 last sequence        varint64
 *   5 compact pointer      varint32 level, length-prefixed internal key
 *   6 deleted file         varint32 level, varint64 file number
 *   7 new file             varint32 level, varint64 number, varint64 size,
 *                          length-prefixed smallest, length-prefixed largest (internal keys)
 * Unknown tags are corruption (we never wrote them).
 */

import { copyBytes } from "../copy-bytes.js";
import { ByteReader, ByteWriter } from "../util/index.js";
import type { FileMeta } from "./file-meta.js";

const TAG_COMPARATOR = 1;
const TAG_LOG_NUMBER = 2;
const TAG_NEXT_FILE_NUMBER = 3;
const TAG_LAST_SEQUENCE = 4;
const TAG_COMPACT_POINTER = 5;
const TAG_DELETED_FILE = 6;
const TAG_NEW_FILE = 7;

/** The only key order this engine writes; recorded so a future comparator option cannot mix. */
export const COMPARATOR_NAME = "distkv.BytewiseComparator";

export interface NewFile {
  level: number;
  file: FileMeta;
}

export class VersionEdit {
  comparator: string | undefined;
  logNumber: number | undefined;
  nextFileNumber: number | undefined;
  lastSequence: number | undefined;
  readonly compactPointers: { level: number; key: Uint8Array }[] = [];
  /** "level:number" pairs. */
  readonly deletedFiles: { level: number; number: number }[] = [];
  readonly newFiles: NewFile[] = [];

  addFile(level: number, file: FileMeta): void {
    this.newFiles.push({ level, file });
  }

  deleteFile(level: number, number: number): void {
    this.deletedFiles.push({ level, number });
  }

  encode(): Uint8Array {
    const w = new ByteWriter(64);
    if (this.comparator !== undefined) {
      w.putVarint32(TAG_COMPARATOR).putLengthPrefixed(new TextEncoder().encode(this.comparator));
    }
    if (this.logNumber !== undefined) w.putVarint32(TAG_LOG_NUMBER).putVarint64(this.logNumber);
    if (this.nextFileNumber !== undefined) {
      w.putVarint32(TAG_NEXT_FILE_NUMBER).putVarint64(this.nextFileNumber);
    }
    if (this.lastSequence !== undefined) {
      w.putVarint32(TAG_LAST_SEQUENCE).putVarint64(this.lastSequence);
    }
    for (const p of this.compactPointers) {
      w.putVarint32(TAG_COMPACT_POINTER).putVarint32(p.level).putLengthPrefixed(p.key);
    }
    for (const d of this.deletedFiles) {
      w.putVarint32(TAG_DELETED_FILE).putVarint32(d.level).putVarint64(d.number);
    }
    for (const { level, file } of this.newFiles) {
      w.putVarint32(TAG_NEW_FILE)
        .putVarint32(level)
        .putVarint64(file.number)
        .putVarint64(file.size)
        .putLengthPrefixed(file.smallest)
        .putLengthPrefixed(file.largest);
    }
    return w.toBytes();
  }

  /**
   * Decodes one record. Throws CorruptionError naming `file` and `offset + position` on any
   * malformed field. Keys are copied so the record buffer can be dropped.
   */
  static decode(buf: Uint8Array, file: string, offset: number, numLevels: number): VersionEdit {
    const r = new ByteReader(buf, 0, buf.length, file, offset);
    const e = new VersionEdit();
    const level = (): number => {
      const at = r.pos;
      const l = r.varint32();
      if (l >= numLevels) r.fail(`level ${l} out of range`, at);
      return l;
    };
    while (!r.atEnd()) {
      const at = r.pos;
      const tag = r.varint32();
      switch (tag) {
        case TAG_COMPARATOR:
          e.comparator = new TextDecoder().decode(r.lengthPrefixed());
          break;
        case TAG_LOG_NUMBER:
          e.logNumber = r.varint64();
          break;
        case TAG_NEXT_FILE_NUMBER:
          e.nextFileNumber = r.varint64();
          break;
        case TAG_LAST_SEQUENCE:
          e.lastSequence = r.varint64();
          break;
        case TAG_COMPACT_POINTER:
          e.compactPointers.push({ level: level(), key: copyBytes(r.lengthPrefixed()) });
          break;
        case TAG_DELETED_FILE:
          e.deletedFiles.push({ level: level(), number: r.varint64() });
          break;
        case TAG_NEW_FILE: {
          const l = level();
          const number = r.varint64();
          const size = r.varint64();
          const smallest = copyBytes(r.lengthPrefixed());
          const largest = copyBytes(r.lengthPrefixed());
          e.newFiles.push({ level: l, file: { number, size, smallest, largest } });
          break;
        }
        default:
          r.fail(`unknown version edit tag ${tag}`, at);
      }
    }
    return e;
  }
}
