/**
 * Reads a write-ahead log back into records.
 *
 * Two kinds of damage are told apart:
 * - a torn tail: the end of the log (a record cut short, a zeroed or garbage last page) after
 *   which no valid fragment follows. This is what a crash during an unsynced append leaves; it is
 *   not an error. It is returned in `tornTail` and never passed to onCorruption.
 * - corruption: a damaged fragment followed by valid data. It is passed to onCorruption with the
 *   file and the byte offset. As in leveldb, the rest of the damaged block (32 KiB) is skipped,
 *   because a damaged length field makes everything after it in the block untrustworthy, and
 *   the next block always starts with a fragment header.
 *
 * The reader never returns a record whose every fragment did not pass its checksum.
 * Limit: a bit flip in the LAST records of the log (nothing valid after it) is indistinguishable
 * from a torn write and is reported as a torn tail.
 */

import type { FileSystem } from "../fs/types.js";
import { decodeFixed32 } from "../util/coding.js";
import { crc32cUpdate, unmaskCrc } from "../util/crc32c.js";
import { LOG_BLOCK_SIZE, LOG_HEADER_SIZE, RecordType } from "./format.js";

export interface LogCorruption {
  file: string;
  /** Byte offset in the log file where the damaged data starts. */
  offset: number;
  reason: string;
  /** Bytes skipped because of it (the damaged fragment and the rest of its block). */
  bytesDropped: number;
}

export interface LogReadResult {
  records: Uint8Array[];
  /** Damage followed by valid data, in file order. */
  corruptions: LogCorruption[];
  /** The first damage after which nothing valid follows (a crash's torn write), if any. */
  tornTail: LogCorruption | undefined;
  /** Offset just past the last complete record. */
  validEnd: number;
}

interface Problem extends LogCorruption {
  /** A well-checksummed fragment was found right after this one's recorded length. */
  validAfter: boolean;
  /** Always part of the tail (an incomplete record at EOF). */
  tailOnly: boolean;
  /** Where the damage that caused this problem is (after a record start for dropped partials). */
  classifyAt: number;
}

const TYPE_CRC = [0, 1, 2, 3, 4].map((t) => crc32cUpdate(0, Uint8Array.of(t)));

function fragmentValid(data: Uint8Array, p: number, blockEnd: number): boolean {
  if (blockEnd - p < LOG_HEADER_SIZE) return false;
  const len = data[p + 4]! | (data[p + 5]! << 8);
  const type = data[p + 6]!;
  if (type < RecordType.Full || type > RecordType.Last) return false;
  if (p + LOG_HEADER_SIZE + len > blockEnd) return false;
  const expected = unmaskCrc(decodeFixed32(data, p));
  const start = p + LOG_HEADER_SIZE;
  return crc32cUpdate(TYPE_CRC[type]!, data, start, start + len) === expected;
}

/** Parses a whole log image. `file` is used in the reports. */
export function parseLog(data: Uint8Array, file: string): LogReadResult {
  const records: Uint8Array[] = [];
  const problems: Problem[] = [];
  const size = data.length;
  let pos = 0;
  let lastValidStart = -1;
  let validEnd = 0;
  let inRecord = false;
  let recordStart = 0;
  let parts: Uint8Array[] = [];
  let partsLen = 0;

  const problem = (
    offset: number,
    reason: string,
    bytesDropped: number,
    validAfter = false,
    classifyAt = offset,
  ): void => {
    problems.push({ file, offset, reason, bytesDropped, validAfter, tailOnly: false, classifyAt });
  };
  // `at` is where the event that ends the partial record is; it decides tail vs corruption.
  const dropPartial = (why: string, at: number, validAfter = false): void => {
    if (!inRecord) return;
    problem(recordStart, `incomplete record dropped: ${why}`, partsLen, validAfter, at);
    inRecord = false;
    parts = [];
    partsLen = 0;
  };

  while (pos < size) {
    const blockEnd = Math.min(size, (Math.floor(pos / LOG_BLOCK_SIZE) + 1) * LOG_BLOCK_SIZE);
    const room = blockEnd - pos;
    if (room < LOG_HEADER_SIZE) {
      if (blockEnd === size && (blockEnd % LOG_BLOCK_SIZE !== 0 || room === 0)) {
        // A header cut short by the end of the file, unless these are a full block's zero pad.
        let allZero = true;
        for (let i = pos; i < size; i++) if (data[i] !== 0) allZero = false;
        if (!allZero) problem(pos, "truncated fragment header at end of log", room);
      }
      pos = blockEnd;
      continue;
    }
    const len = data[pos + 4]! | (data[pos + 5]! << 8);
    const type = data[pos + 6]!;
    const fragEnd = pos + LOG_HEADER_SIZE + len;
    let bad: string | undefined;
    if (type === RecordType.Zero && len === 0 && decodeFixed32(data, pos) === 0) {
      bad = "zero-filled region";
    } else if (type < RecordType.Full || type > RecordType.Last) {
      bad = `unknown fragment type ${type}`;
    } else if (fragEnd > blockEnd) {
      bad =
        blockEnd === size && fragEnd > size
          ? "fragment extends past the end of the log"
          : "fragment length crosses its block";
    } else if (!fragmentValid(data, pos, blockEnd)) {
      bad = "checksum mismatch";
    }
    if (bad !== undefined) {
      const validAfter =
        fragEnd <= blockEnd && type >= RecordType.Full && type <= RecordType.Last
          ? fragmentValid(data, fragEnd, blockEnd)
          : false;
      if (inRecord) dropPartial(`damaged fragment at offset ${pos}`, pos, validAfter);
      problem(pos, bad, blockEnd - pos, validAfter);
      pos = blockEnd;
      continue;
    }
    lastValidStart = pos;
    const payload = data.subarray(pos + LOG_HEADER_SIZE, fragEnd);
    switch (type) {
      case RecordType.Full:
        if (inRecord) dropPartial(`a full record follows at offset ${pos}`, pos);
        records.push(payload);
        validEnd = fragEnd;
        break;
      case RecordType.First:
        if (inRecord) dropPartial(`a new record starts at offset ${pos}`, pos);
        inRecord = true;
        recordStart = pos;
        parts = [payload];
        partsLen = payload.length;
        break;
      case RecordType.Middle:
        if (!inRecord) {
          problem(pos, "middle fragment without a first fragment", fragEnd - pos);
        } else {
          parts.push(payload);
          partsLen += payload.length;
        }
        break;
      default: // Last
        if (!inRecord) {
          problem(pos, "last fragment without a first fragment", fragEnd - pos);
        } else {
          parts.push(payload);
          partsLen += payload.length;
          const rec = new Uint8Array(partsLen);
          let o = 0;
          for (const part of parts) {
            rec.set(part, o);
            o += part.length;
          }
          records.push(rec);
          inRecord = false;
          parts = [];
          partsLen = 0;
          validEnd = fragEnd;
        }
        break;
    }
    pos = fragEnd;
  }
  if (inRecord) {
    problems.push({
      file,
      offset: recordStart,
      reason: "incomplete record at end of log",
      bytesDropped: size - recordStart,
      validAfter: false,
      tailOnly: true,
      classifyAt: size,
    });
  }

  const corruptions: LogCorruption[] = [];
  let tornTail: LogCorruption | undefined;
  for (const p of problems) {
    const isTail = p.tailOnly || (p.classifyAt > lastValidStart && !p.validAfter);
    const info = { file: p.file, offset: p.offset, reason: p.reason, bytesDropped: p.bytesDropped };
    if (isTail) {
      if (tornTail === undefined || p.offset < tornTail.offset) tornTail = info;
    } else {
      corruptions.push(info);
    }
  }
  return { records, corruptions, tornTail, validEnd };
}

/** Reads a whole log file, with the full status. */
export async function readLogWithStatus(fs: FileSystem, path: string): Promise<LogReadResult> {
  return parseLog(await fs.readFile(path), path);
}

/**
 * Reads a whole log file. Corruption followed by valid data is passed to `onCorruption` (which
 * may throw to abort); a torn tail is tolerated silently (use readLogWithStatus to see it).
 */
export async function readLog(
  fs: FileSystem,
  path: string,
  onCorruption: (info: LogCorruption) => void,
): Promise<Uint8Array[]> {
  const result = await readLogWithStatus(fs, path);
  for (const c of result.corruptions) onCorruption(c);
  return result.records;
}
