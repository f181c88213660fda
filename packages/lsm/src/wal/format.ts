/**
 * The write-ahead log format (leveldb's log format). ON-DISK FORMAT: never change the meaning
 * of these constants. See doc/wal-format.md.
 */

/** The log is a sequence of blocks of this size; a record header never straddles two blocks. */
export const LOG_BLOCK_SIZE = 32_768;
/** masked crc32c (4) + payload length (2, little-endian) + record type (1). */
export const LOG_HEADER_SIZE = 7;

/** Fragment types. 0 is what preallocated or zero-filled space reads as. */
export const RecordType = {
  Zero: 0,
  Full: 1,
  First: 2,
  Middle: 3,
  Last: 4,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];
