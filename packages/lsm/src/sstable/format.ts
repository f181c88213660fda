/**
 * SSTable layout constants and block handles. ON-DISK FORMAT: never change the meaning of any
 * constant here. See doc/sstable-format.md.
 *
 *   [data block][trailer] ... [data block][trailer]
 *   [filter block][trailer]            (absent when the table has no filter: size 0)
 *   [index block][trailer]
 *   [footer: 56 bytes]
 *
 * trailer = block type (1 byte, 0 = raw) + masked crc32c of (block contents + type byte) (4 bytes)
 * footer  = index handle + filter handle (varint64 offset, varint64 size each), zero padded to
 *           40 bytes; format version (fixed32); masked crc32c of the 44 bytes before it
 *           (fixed32); magic (8 bytes).
 */

import { CorruptionError } from "../errors.js";
import { type ByteReader, encodeVarint64 } from "../util/coding.js";

export const BLOCK_TRAILER_SIZE = 5;
/** Block type byte: contents stored as is. Other values are reserved for compression. */
export const BLOCK_TYPE_RAW = 0;

export const FOOTER_HANDLES_SIZE = 40;
export const FOOTER_SIZE = 56;
/** Version of the table format written by this code. */
export const TABLE_FORMAT_VERSION = 1;
/** Last 8 bytes of every table file, little-endian 0xdb5ca9e4f1a3b7c1 ("DistKV lsm table"). */
export const TABLE_MAGIC = Uint8Array.of(0xc1, 0xb7, 0xa3, 0xf1, 0xe4, 0xa9, 0x5c, 0xdb);

/** Points at a block: its offset in the file and its size without the trailer. */
export interface BlockHandle {
  offset: number;
  size: number;
}

export function encodeBlockHandle(buf: Uint8Array, pos: number, h: BlockHandle): number {
  pos = encodeVarint64(buf, pos, h.offset);
  return encodeVarint64(buf, pos, h.size);
}

export function decodeBlockHandle(r: ByteReader): BlockHandle {
  const offset = r.varint64();
  const size = r.varint64();
  return { offset, size };
}

/** Throws CorruptionError unless the handle lies wholly inside [0, limit). */
export function checkHandle(
  h: BlockHandle,
  limit: number,
  file: string,
  at: number,
  what: string,
): void {
  if (h.offset + h.size + BLOCK_TRAILER_SIZE > limit) {
    throw new CorruptionError(
      file,
      at,
      `${what} handle (offset ${h.offset}, size ${h.size}) points past the end of its region (${limit})`,
    );
  }
}
