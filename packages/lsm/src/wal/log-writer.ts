/**
 * Appends records to a write-ahead log. A record is split into fragments so that no fragment
 * crosses a 32 KiB block boundary; each fragment carries a checksum of its type and payload.
 *
 * Group commit support: `addRecord` encodes and writes at once (one appendSync per record);
 * `bufferRecord` only encodes, and `flush` writes everything buffered in ONE appendSync, so the
 * engine can gather every writer of an event-loop turn into one write (and one sync).
 */

import type { FileHandle } from "../fs/types.js";
import { ByteWriter } from "../util/byte-writer.js";
import { encodeFixed32 } from "../util/coding.js";
import { crc32cUpdate, maskCrc } from "../util/crc32c.js";
import { LOG_BLOCK_SIZE, LOG_HEADER_SIZE, RecordType } from "./format.js";

// crc32c of the single type byte, the start of every fragment's checksum.
const TYPE_CRC = [0, 1, 2, 3, 4].map((t) => crc32cUpdate(0, Uint8Array.of(t)));

export interface LogWriterOptions {
  /**
   * Byte length of the log already on disk, when reopening an existing log for append, so that
   * block boundaries stay where readers expect them.
   * @default file.size()
   */
  initialOffset?: number;
}

export class LogWriter {
  private blockOffset: number;
  private readonly buf = new ByteWriter(LOG_BLOCK_SIZE);
  private written: number;
  private closed = false;

  constructor(
    readonly file: FileHandle,
    options: LogWriterOptions = {},
  ) {
    this.written = options.initialOffset ?? file.size();
    this.blockOffset = this.written % LOG_BLOCK_SIZE;
  }

  /** Bytes of log produced so far (written plus buffered). */
  size(): number {
    return this.written + this.buf.length;
  }

  /** Bytes encoded by bufferRecord and not yet written by flush. */
  get bufferedBytes(): number {
    return this.buf.length;
  }

  /** Encodes and writes one record (one appendSync). */
  addRecord(data: Uint8Array): void {
    this.bufferRecord(data);
    this.flush();
  }

  /** Encodes one record into the write buffer without writing it. */
  bufferRecord(data: Uint8Array): void {
    if (this.closed) throw new Error("LogWriter is closed");
    const out = this.buf;
    let left = data.length;
    let pos = 0;
    let begin = true;
    do {
      const leftover = LOG_BLOCK_SIZE - this.blockOffset;
      if (leftover < LOG_HEADER_SIZE) {
        // Too little room for a header: pad the block's tail with zeros (reads as type Zero).
        for (let i = 0; i < leftover; i++) out.putU8(0);
        this.blockOffset = 0;
      }
      const avail = LOG_BLOCK_SIZE - this.blockOffset - LOG_HEADER_SIZE;
      const n = Math.min(left, avail);
      const end = n === left;
      const type = begin
        ? end
          ? RecordType.Full
          : RecordType.First
        : end
          ? RecordType.Last
          : RecordType.Middle;
      const crc = maskCrc(crc32cUpdate(TYPE_CRC[type]!, data, pos, pos + n));
      out.ensure(LOG_HEADER_SIZE + n);
      out.putFixed32(crc);
      out.putU8(n & 0xff);
      out.putU8(n >>> 8);
      out.putU8(type);
      out.putBytes(data, pos, pos + n);
      pos += n;
      left -= n;
      this.blockOffset += LOG_HEADER_SIZE + n;
      begin = false;
    } while (left > 0);
  }

  /** Writes everything buffered with a single appendSync. */
  flush(): void {
    const n = this.buf.length;
    if (n === 0) return;
    // Hand out the view, then reset: appendSync copies (or writes) synchronously.
    this.file.appendSync(this.buf.view());
    this.buf.reset();
    this.written += n;
  }

  /** Flushes, then makes every record written so far durable. */
  async sync(): Promise<void> {
    this.flush();
    await this.file.sync();
  }

  /** Flushes and closes the file (without syncing). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    await this.file.close();
  }
}

/** Encodes records into a standalone log image (testing and tooling aid). */
export function encodeLog(records: readonly Uint8Array[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const sink: FileHandle = {
    path: "<memory>",
    readSync: () => 0,
    read: async () => 0,
    appendSync: (d) => {
      chunks.push(d.slice());
    },
    sync: async () => {},
    syncSync: () => {},
    size: () => 0,
    close: async () => {},
  };
  const w = new LogWriter(sink, { initialOffset: 0 });
  for (const r of records) w.bufferRecord(r);
  w.flush();
  const total = chunks.reduce((a, c) => a + c.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

// Exposed for tests that hand-craft fragments.
export function fragmentHeader(payload: Uint8Array, type: RecordType): Uint8Array {
  const h = new Uint8Array(LOG_HEADER_SIZE);
  encodeFixed32(h, 0, maskCrc(crc32cUpdate(TYPE_CRC[type]!, payload)));
  h[4] = payload.length & 0xff;
  h[5] = payload.length >>> 8;
  h[6] = type;
  return h;
}
