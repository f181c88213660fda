/**
 * Writes an immutable sorted table (see sstable/format.ts and doc/sstable-format.md).
 *
 * Output is gathered in a write buffer and appended in large chunks, so building a table costs
 * a few hundred appendSync calls per hundred megabytes rather than one per 4 KiB block.
 * The builder owns the file handle: finish() syncs and closes it, abandon() closes it.
 */

import { InvalidArgumentError } from "../errors.js";
import { BloomFilterBuilder, bloomHash, DEFAULT_BLOOM_BITS_PER_KEY } from "../filter/bloom.js";
import type { FileHandle } from "../fs/types.js";
import type { Comparator } from "../iterator/types.js";
import { BufferPool } from "../util/buffer-pool.js";
import { ByteWriter } from "../util/byte-writer.js";
import { encodeFixed32 } from "../util/coding.js";
import { bytesEqual } from "../util/compare-bytes.js";
import { crc32cUpdate, maskCrc } from "../util/crc32c.js";
import { BlockBuilder } from "./block-builder.js";
import {
  BLOCK_TRAILER_SIZE,
  BLOCK_TYPE_RAW,
  type BlockHandle,
  encodeBlockHandle,
  FOOTER_HANDLES_SIZE,
  FOOTER_SIZE,
  TABLE_FORMAT_VERSION,
  TABLE_MAGIC,
} from "./format.js";

/** @default 4096 */
export const DEFAULT_BLOCK_SIZE_BYTES = 4096;
/** @default 16 */
export const DEFAULT_RESTART_INTERVAL = 16;
/** Output is appended to the file in chunks of about this size. */
const WRITE_BUFFER_BYTES = 256 * 1024;
/**
 * Write buffers of finished tables, kept for the next (a flush or compaction builds one table
 * after another; see BufferPool for why large buffers are reused rather than reallocated).
 */
const writeBuffers = new BufferPool(WRITE_BUFFER_BYTES + 8192, 4);

export interface TableBuilderOptions {
  /** Order of the keys (the engine's internal-key comparator). */
  compare: Comparator;
  /** The part of a key the bloom filter is built over (the engine strips its 8-byte trailer). */
  filterKey: (key: Uint8Array) => Uint8Array;
  /**
   * Target uncompressed size of a data block.
   * @default 4096
   */
  blockSizeBytes?: number;
  /**
   * Keys between restart points in data blocks (smaller: faster seeks, bigger blocks).
   * @default 16
   */
  restartInterval?: number;
  /**
   * Bloom filter density; 0 writes no filter. 10 gives about 1% false positives.
   * @default 10
   */
  bloomBitsPerKey?: number;
}

export interface ResolvedTableBuilderOptions {
  readonly compare: Comparator;
  readonly filterKey: (key: Uint8Array) => Uint8Array;
  readonly blockSizeBytes: number;
  readonly restartInterval: number;
  readonly bloomBitsPerKey: number;
}

export function resolveTableBuilderOptions(o: TableBuilderOptions): ResolvedTableBuilderOptions {
  const blockSizeBytes = o.blockSizeBytes ?? DEFAULT_BLOCK_SIZE_BYTES;
  const restartInterval = o.restartInterval ?? DEFAULT_RESTART_INTERVAL;
  const bloomBitsPerKey = o.bloomBitsPerKey ?? DEFAULT_BLOOM_BITS_PER_KEY;
  if (typeof o.compare !== "function") throw new InvalidArgumentError("compare must be a function");
  if (typeof o.filterKey !== "function") {
    throw new InvalidArgumentError("filterKey must be a function");
  }
  if (!Number.isInteger(blockSizeBytes) || blockSizeBytes < 64 || blockSizeBytes > 64 << 20) {
    throw new InvalidArgumentError(
      `blockSizeBytes must be an integer in [64, 64 MiB], got ${blockSizeBytes}`,
    );
  }
  if (!Number.isInteger(restartInterval) || restartInterval < 1 || restartInterval > 1024) {
    throw new InvalidArgumentError(
      `restartInterval must be an integer in [1, 1024], got ${restartInterval}`,
    );
  }
  if (!(bloomBitsPerKey === 0 || (bloomBitsPerKey > 0 && bloomBitsPerKey <= 64))) {
    throw new InvalidArgumentError(
      `bloomBitsPerKey must be 0 or in (0, 64], got ${bloomBitsPerKey}`,
    );
  }
  return Object.freeze({
    compare: o.compare,
    filterKey: o.filterKey,
    blockSizeBytes,
    restartInterval,
    bloomBitsPerKey,
  });
}

export interface TableBuildResult {
  fileSize: number;
  smallest: Uint8Array;
  largest: Uint8Array;
  entries: number;
}

export class TableBuilder {
  private readonly opts: ResolvedTableBuilderOptions;
  private readonly data: BlockBuilder;
  private readonly index: BlockBuilder;
  private readonly filter: BloomFilterBuilder | undefined;
  private readonly out = new ByteWriter(writeBuffers.take());
  /** Bytes already appended to the file. */
  private flushed = 0;
  private count = 0;
  private smallest: Uint8Array | undefined;
  private lastKey: Uint8Array | undefined;
  private lastFilterKey: Uint8Array | undefined;
  /** Handle of the last data block, whose index entry waits for its last key. */
  private pending: BlockHandle | undefined;
  private done = false;
  private readonly handleScratch = new Uint8Array(20);

  constructor(
    readonly file: FileHandle,
    options: TableBuilderOptions,
  ) {
    this.opts = resolveTableBuilderOptions(options);
    this.data = new BlockBuilder(this.opts.restartInterval, this.opts.blockSizeBytes + 1024);
    // Index entries are restart points, so lookups binary-search them without a scan.
    this.index = new BlockBuilder(1, 4096);
    this.filter =
      this.opts.bloomBitsPerKey > 0 ? new BloomFilterBuilder(this.opts.bloomBitsPerKey) : undefined;
  }

  /** Adds an entry. Keys must be strictly increasing under `compare`. */
  add(key: Uint8Array, value: Uint8Array): void {
    if (this.done) throw new InvalidArgumentError("TableBuilder already finished");
    if (this.lastKey !== undefined && this.opts.compare(this.lastKey, key) >= 0) {
      throw new InvalidArgumentError("TableBuilder.add: keys must be strictly increasing");
    }
    if (this.pending !== undefined) this.addIndexEntry();
    if (this.filter !== undefined) {
      const fk = this.opts.filterKey(key);
      // Consecutive versions of one user key add one hash, so the filter is sized by distinct keys.
      if (this.lastFilterKey === undefined || !bytesEqual(fk, this.lastFilterKey)) {
        this.filter.addHash(bloomHash(fk));
        this.lastFilterKey = fk;
      }
    }
    // new Uint8Array(x) copies even when x is a Buffer (whose slice() would be a view).
    if (this.smallest === undefined) this.smallest = new Uint8Array(key);
    this.data.add(key, value);
    this.lastKey = key;
    this.count++;
    if (this.data.estimatedSize() >= this.opts.blockSizeBytes) this.flushDataBlock();
  }

  entries(): number {
    return this.count;
  }

  /** Size of the file if finished now (approximately: filter and index not counted). */
  estimatedSize(): number {
    return this.flushed + this.out.length + this.data.estimatedSize();
  }

  private flushDataBlock(): void {
    if (this.data.empty()) return;
    // The index key is the block's last key: no separator shortening, which would need
    // knowledge of the key encoding that only the engine has.
    this.pending = this.writeBlock(this.data.finish());
    this.pendingKey = this.data.last();
    this.data.reset();
  }

  private pendingKey: Uint8Array | undefined;

  private addIndexEntry(): void {
    const n = encodeBlockHandle(this.handleScratch, 0, this.pending!);
    this.index.add(this.pendingKey!, this.handleScratch.subarray(0, n));
    this.pending = undefined;
    this.pendingKey = undefined;
  }

  private writeBlock(contents: Uint8Array): BlockHandle {
    this.makeRoom(contents.length + BLOCK_TRAILER_SIZE);
    const handle = { offset: this.flushed + this.out.length, size: contents.length };
    const out = this.out;
    out.putBytes(contents);
    const crc = maskCrc(crc32cUpdate(crc32cUpdate(0, contents), TYPE_RAW_BYTE));
    out.putU8(BLOCK_TYPE_RAW);
    out.putFixed32(crc);
    if (out.length >= WRITE_BUFFER_BYTES) this.flushOut();
    return handle;
  }

  /**
   * Writes out what is buffered if `n` more bytes would not fit, so that the (pooled) buffer
   * does not grow: a table's filter and index blocks come on top of up to WRITE_BUFFER_BYTES of
   * data, and a grown buffer cannot go back to the pool.
   */
  private makeRoom(n: number): void {
    if (this.out.length > 0 && this.out.length + n > this.out.buffer.length) this.flushOut();
  }

  private flushOut(): void {
    if (this.out.length === 0) return;
    this.file.appendSync(this.out.view());
    this.flushed += this.out.length;
    this.out.reset();
  }

  /** Writes the filter, index and footer, syncs and closes the file. */
  async finish(): Promise<TableBuildResult> {
    if (this.done) throw new InvalidArgumentError("TableBuilder already finished");
    if (this.count === 0) throw new InvalidArgumentError("TableBuilder.finish: no entries");
    this.flushDataBlock();
    this.done = true;
    let filterHandle: BlockHandle = { offset: 0, size: 0 };
    if (this.filter !== undefined) filterHandle = this.writeBlock(this.filter.finish());
    if (this.pending !== undefined) this.addIndexEntry();
    const indexHandle = this.writeBlock(this.index.finish());
    const footer = new Uint8Array(FOOTER_SIZE);
    let p = encodeBlockHandle(footer, 0, indexHandle);
    p = encodeBlockHandle(footer, p, filterHandle);
    encodeFixed32(footer, FOOTER_HANDLES_SIZE, TABLE_FORMAT_VERSION);
    encodeFixed32(
      footer,
      FOOTER_HANDLES_SIZE + 4,
      maskCrc(crc32cUpdate(0, footer, 0, FOOTER_HANDLES_SIZE + 4)),
    );
    footer.set(TABLE_MAGIC, FOOTER_HANDLES_SIZE + 8);
    this.makeRoom(footer.length);
    this.out.putBytes(footer);
    this.flushOut();
    // Written out synchronously above: nothing refers to the buffer any more.
    writeBuffers.give(this.out.buffer);
    await this.file.sync();
    await this.file.close();
    return {
      fileSize: this.flushed,
      smallest: this.smallest!,
      largest: new Uint8Array(this.lastKey!),
      entries: this.count,
    };
  }

  /** Gives up on the table: closes the file (the caller removes it). */
  async abandon(): Promise<void> {
    if (!this.done) writeBuffers.give(this.out.buffer);
    this.done = true;
    await this.file.close();
  }
}

const TYPE_RAW_BYTE = Uint8Array.of(BLOCK_TYPE_RAW);
