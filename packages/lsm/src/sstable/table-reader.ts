/**
 * Reads an immutable table. open() loads the footer, the index (decoded into arrays for a
 * binary search without allocation) and the filter into memory; data blocks are read on demand
 * with readSync through the shared block cache, so lookups and iterators never yield the loop.
 *
 * Every block is checked against its checksum before use (unless verifyChecksums is false), and
 * every structural check failure throws CorruptionError naming the file and the offset: damaged
 * data is reported, never returned.
 */

import type { BlockCache } from "../cache/block-cache.js";
import { CorruptionError, InvalidArgumentError } from "../errors.js";
import { bloomHash, bloomMayContainHash } from "../filter/bloom.js";
import type { FileHandle } from "../fs/types.js";
import type { Comparator, InternalIterator } from "../iterator/types.js";
import { ByteReader, decodeFixed32 } from "../util/coding.js";
import { crc32cUpdate, maskCrc } from "../util/crc32c.js";
import { BlockIterator } from "./block-reader.js";
import {
  BLOCK_TRAILER_SIZE,
  BLOCK_TYPE_RAW,
  type BlockHandle,
  checkHandle,
  decodeBlockHandle,
  FOOTER_HANDLES_SIZE,
  FOOTER_SIZE,
  TABLE_FORMAT_VERSION,
  TABLE_MAGIC,
} from "./format.js";

export interface TableReaderOptions {
  /** Order of the keys; must be the one the table was built with. */
  compare: Comparator;
  /** Must be the function the table was built with. */
  filterKey: (key: Uint8Array) => Uint8Array;
  /** Shared block cache; without one every block access reads the file. */
  cache?: BlockCache;
  /** Identifies the file in the cache. */
  fileNumber: number;
  /**
   * Check each block's crc32c when it is read from the file (cached blocks were checked).
   * @default true
   */
  verifyChecksums?: boolean;
}

export interface TableIteratorOptions {
  /**
   * Insert blocks read by this iterator into the cache. Compactions pass false so that a
   * one-time scan does not evict the hot blocks.
   * @default true
   */
  fillCache?: boolean;
}

export interface TableEntry {
  key: Uint8Array;
  value: Uint8Array;
}

type ReadAt = (position: number, length: number) => Uint8Array;

/** Bytes read at once by iterators that do not fill the cache (compaction inputs). */
export const READAHEAD_BYTES = 256 * 1024;

/** A window of the file already read, owned by one iterator. */
interface Readahead {
  start: number;
  buf: Uint8Array;
}

export class TableReader {
  readonly fileSize: number;
  readonly fileNumber: number;
  private readonly compare: Comparator;
  private readonly cache: BlockCache | undefined;
  private readonly verify: boolean;
  /** Index entries: last key of each data block and the block's handle. */
  private readonly indexKeys: Uint8Array[];
  private readonly blockOffsets: Float64Array;
  private readonly blockSizes: Float64Array;
  private readonly filter: Uint8Array | undefined;
  /** End of the data blocks (where the filter or index starts). */
  private readonly dataEnd: number;
  private closed = false;

  private constructor(
    readonly file: FileHandle,
    options: TableReaderOptions,
    fileSize: number,
    index: { keys: Uint8Array[]; offsets: Float64Array; sizes: Float64Array },
    filter: Uint8Array | undefined,
    dataEnd: number,
  ) {
    this.fileSize = fileSize;
    this.fileNumber = options.fileNumber;
    this.compare = options.compare;
    this.cache = options.cache;
    this.verify = options.verifyChecksums ?? true;
    this.indexKeys = index.keys;
    this.blockOffsets = index.offsets;
    this.blockSizes = index.sizes;
    this.filter = filter;
    this.dataEnd = dataEnd;
  }

  /** Opens a table, reading its metadata with asynchronous reads. */
  static async open(file: FileHandle, options: TableReaderOptions): Promise<TableReader> {
    checkReaderOptions(options);
    const size = file.size();
    const footer = await readExactAsync(file, size - FOOTER_SIZE, FOOTER_SIZE, size);
    const meta = parseFooter(file.path, footer, size);
    const indexRaw = await readExactAsync(
      file,
      meta.index.offset,
      meta.index.size + BLOCK_TRAILER_SIZE,
      size,
    );
    const filterRaw =
      meta.filter.size === 0
        ? undefined
        : await readExactAsync(
            file,
            meta.filter.offset,
            meta.filter.size + BLOCK_TRAILER_SIZE,
            size,
          );
    return TableReader.build(file, options, size, meta, indexRaw, filterRaw);
  }

  /** Opens a table with synchronous reads (for cold paths that must not yield). */
  static openSync(file: FileHandle, options: TableReaderOptions): TableReader {
    checkReaderOptions(options);
    const size = file.size();
    const read: ReadAt = (pos, len) => readExactSync(file, pos, len, size);
    const meta = parseFooter(file.path, read(size - FOOTER_SIZE, FOOTER_SIZE), size);
    const indexRaw = read(meta.index.offset, meta.index.size + BLOCK_TRAILER_SIZE);
    const filterRaw =
      meta.filter.size === 0
        ? undefined
        : read(meta.filter.offset, meta.filter.size + BLOCK_TRAILER_SIZE);
    return TableReader.build(file, options, size, meta, indexRaw, filterRaw);
  }

  private static build(
    file: FileHandle,
    options: TableReaderOptions,
    size: number,
    meta: { index: BlockHandle; filter: BlockHandle },
    indexRaw: Uint8Array,
    filterRaw: Uint8Array | undefined,
  ): TableReader {
    // Metadata is always verified: it is read once and everything depends on it.
    const indexBlock = checkBlock(file.path, meta.index.offset, indexRaw, true);
    const filter =
      filterRaw === undefined
        ? undefined
        : checkBlock(file.path, meta.filter.offset, filterRaw, true);
    const index = decodeIndex(file.path, meta.index.offset, indexBlock, options.compare);
    const dataEnd = meta.filter.size === 0 ? meta.index.offset : meta.filter.offset;
    // Every data block must lie inside the data region, in order, without overlap.
    let expected = 0;
    for (let i = 0; i < index.keys.length; i++) {
      const off = index.offsets[i]!;
      const sz = index.sizes[i]!;
      if (off !== expected || off + sz + BLOCK_TRAILER_SIZE > dataEnd) {
        throw new CorruptionError(
          file.path,
          meta.index.offset,
          `index entry ${i} points at block (offset ${off}, size ${sz}) outside the data region`,
        );
      }
      expected = off + sz + BLOCK_TRAILER_SIZE;
    }
    if (expected !== dataEnd) {
      throw new CorruptionError(
        file.path,
        meta.index.offset,
        "index does not cover the data region",
      );
    }
    return new TableReader(file, options, size, index, filter, dataEnd);
  }

  /** Number of data blocks. */
  get blockCount(): number {
    return this.indexKeys.length;
  }

  /** False means the table surely holds no key whose filterKey is `filterKey`. */
  mayContain(filterKey: Uint8Array): boolean {
    if (this.filter === undefined) return true;
    return bloomMayContainHash(this.filter, bloomHash(filterKey));
  }

  /** As mayContain, for a hash computed once with bloomHash() and reused across tables. */
  mayContainHash(hash: number): boolean {
    if (this.filter === undefined) return true;
    return bloomMayContainHash(this.filter, hash);
  }

  /** The first entry with key >= lookupKey, or undefined. Does not consult the filter. */
  get(lookupKey: Uint8Array): TableEntry | undefined {
    let b = this.findBlock(lookupKey);
    if (b >= this.indexKeys.length) return undefined;
    const it = this.blockIterator(b, true);
    it.seek(lookupKey);
    if (!it.valid()) {
      // Only possible if the index key is not the block's last key (corrupt); try the next block.
      b++;
      if (b >= this.indexKeys.length) return undefined;
      const it2 = this.blockIterator(b, true);
      it2.seekToFirst();
      return it2.valid() ? { key: it2.key(), value: it2.value() } : undefined;
    }
    return { key: it.key(), value: it.value() };
  }

  /** A sorted iterator over the whole table. Synchronous. */
  iterator(options: TableIteratorOptions = {}): InternalIterator {
    this.checkOpen();
    return new TableIterator(this, options.fillCache ?? true);
  }

  /** Approximate file offset where `key` would be (for size estimates of key ranges). */
  approximateOffsetOf(key: Uint8Array): number {
    const b = this.findBlock(key);
    return b < this.indexKeys.length ? this.blockOffsets[b]! : this.dataEnd;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.file.close();
  }

  // ---- internals shared with TableIterator ----

  /** Index of the first block whose last key is >= key (blockCount if none). */
  findBlock(key: Uint8Array): number {
    const keys = this.indexKeys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(keys[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  blockIterator(i: number, fillCache: boolean, readahead?: Readahead): BlockIterator {
    const offset = this.blockOffsets[i]!;
    return new BlockIterator(
      this.readBlock(offset, this.blockSizes[i]!, fillCache, readahead),
      this.compare,
      this.file.path,
      offset,
    );
  }

  private readBlock(
    offset: number,
    size: number,
    fillCache: boolean,
    readahead: Readahead | undefined,
  ): Uint8Array {
    const cache = this.cache;
    if (cache !== undefined) {
      const hit = cache.get(this.fileNumber, offset);
      if (hit !== undefined) return hit;
    }
    this.checkOpen();
    const need = size + BLOCK_TRAILER_SIZE;
    let raw: Uint8Array;
    if (readahead === undefined) {
      raw = readExactSync(this.file, offset, need, this.fileSize);
    } else {
      // Sequential scans (compactions) read READAHEAD_BYTES at a time instead of one block.
      const ra = readahead;
      if (!(offset >= ra.start && offset + need <= ra.start + ra.buf.length)) {
        const len = Math.max(need, Math.min(READAHEAD_BYTES, this.dataEnd - offset));
        ra.buf = readExactSync(this.file, offset, len, this.fileSize);
        ra.start = offset;
      }
      raw = ra.buf.subarray(offset - ra.start, offset - ra.start + need);
    }
    const block = checkBlock(this.file.path, offset, raw, this.verify);
    if (cache !== undefined && fillCache) cache.set(this.fileNumber, offset, block);
    return block;
  }

  private checkOpen(): void {
    if (this.closed) throw new InvalidArgumentError(`table ${this.file.path} is closed`);
  }
}

function checkReaderOptions(o: TableReaderOptions): void {
  if (typeof o.compare !== "function" || typeof o.filterKey !== "function") {
    throw new InvalidArgumentError("TableReader needs compare and filterKey functions");
  }
  if (!Number.isSafeInteger(o.fileNumber) || o.fileNumber < 0) {
    throw new InvalidArgumentError(`bad fileNumber ${o.fileNumber}`);
  }
}

function readExactSync(file: FileHandle, pos: number, len: number, size: number): Uint8Array {
  if (pos < 0 || pos + len > size) {
    throw new CorruptionError(
      file.path,
      Math.max(0, pos),
      `read of ${len} bytes past the end of a ${size}-byte file (truncated?)`,
    );
  }
  // Not zero-filled: every byte is overwritten by the read, or we throw.
  const b = Buffer.allocUnsafeSlow(len);
  const buf = new Uint8Array(b.buffer, b.byteOffset, len);
  const n = file.readSync(buf, 0, len, pos);
  if (n !== len)
    throw new CorruptionError(file.path, pos, `short read: ${n} of ${len} bytes (truncated?)`);
  return buf;
}

async function readExactAsync(
  file: FileHandle,
  pos: number,
  len: number,
  size: number,
): Promise<Uint8Array> {
  if (pos < 0 || pos + len > size) {
    throw new CorruptionError(
      file.path,
      Math.max(0, pos),
      `read of ${len} bytes past the end of a ${size}-byte file (truncated?)`,
    );
  }
  const buf = new Uint8Array(len);
  const n = await file.read(buf, 0, len, pos);
  if (n !== len)
    throw new CorruptionError(file.path, pos, `short read: ${n} of ${len} bytes (truncated?)`);
  return buf;
}

function parseFooter(
  file: string,
  footer: Uint8Array,
  size: number,
): { index: BlockHandle; filter: BlockHandle } {
  const at = size - FOOTER_SIZE;
  for (let i = 0; i < 8; i++) {
    if (footer[FOOTER_HANDLES_SIZE + 8 + i] !== TABLE_MAGIC[i]) {
      throw new CorruptionError(
        file,
        at + FOOTER_HANDLES_SIZE + 8,
        "bad table magic (not a table, or truncated)",
      );
    }
  }
  const crc = decodeFixed32(footer, FOOTER_HANDLES_SIZE + 4);
  if (crc !== maskCrc(crc32cUpdate(0, footer, 0, FOOTER_HANDLES_SIZE + 4))) {
    throw new CorruptionError(file, at, "footer checksum mismatch");
  }
  const version = decodeFixed32(footer, FOOTER_HANDLES_SIZE);
  if (version !== TABLE_FORMAT_VERSION) {
    throw new CorruptionError(
      file,
      at + FOOTER_HANDLES_SIZE,
      `unsupported table format version ${version}`,
    );
  }
  const r = new ByteReader(footer, 0, FOOTER_HANDLES_SIZE, file, at);
  const index = decodeBlockHandle(r);
  const filter = decodeBlockHandle(r);
  checkHandle(index, at, file, at, "index");
  if (filter.size > 0) checkHandle(filter, index.offset, file, at, "filter");
  return { index, filter };
}

/** Verifies a block's trailer; returns the contents (a view of raw). */
function checkBlock(file: string, offset: number, raw: Uint8Array, verify: boolean): Uint8Array {
  const n = raw.length - BLOCK_TRAILER_SIZE;
  const type = raw[n]!;
  if (verify) {
    const expected = decodeFixed32(raw, n + 1);
    const actual = maskCrc(crc32cUpdate(0, raw, 0, n + 1));
    if (expected !== actual) throw new CorruptionError(file, offset, "block checksum mismatch");
  }
  if (type !== BLOCK_TYPE_RAW)
    throw new CorruptionError(file, offset, `unknown block type ${type}`);
  return raw.subarray(0, n);
}

function decodeIndex(
  file: string,
  offset: number,
  block: Uint8Array,
  compare: Comparator,
): { keys: Uint8Array[]; offsets: Float64Array; sizes: Float64Array } {
  const keys: Uint8Array[] = [];
  const offsets: number[] = [];
  const sizes: number[] = [];
  const it = new BlockIterator(block, compare, file, offset);
  for (it.seekToFirst(); it.valid(); it.next()) {
    const k = it.key();
    if (keys.length > 0 && compare(keys[keys.length - 1]!, k) >= 0) {
      throw new CorruptionError(file, offset, "index keys out of order");
    }
    const v = it.value();
    const r = new ByteReader(v, 0, v.length, file, offset);
    const h = decodeBlockHandle(r);
    // Keys are views into the index block, which lives as long as the reader.
    keys.push(k);
    offsets.push(h.offset);
    sizes.push(h.size);
  }
  if (keys.length === 0) throw new CorruptionError(file, offset, "empty index block");
  return { keys, offsets: Float64Array.from(offsets), sizes: Float64Array.from(sizes) };
}

/** Two-level iterator: a position in the index plus an iterator over that data block. */
class TableIterator implements InternalIterator {
  private blockIndex = -1;
  private block: BlockIterator | undefined;
  private readonly readahead: Readahead | undefined;

  constructor(
    private readonly table: TableReader,
    private readonly fillCache: boolean,
  ) {
    this.readahead = fillCache ? undefined : { start: 0, buf: new Uint8Array(0) };
  }

  valid(): boolean {
    return this.block?.valid() === true;
  }

  key(): Uint8Array {
    return this.block!.key();
  }

  value(): Uint8Array {
    return this.block!.value();
  }

  private load(i: number): boolean {
    if (i < 0 || i >= this.table.blockCount) {
      this.block = undefined;
      this.blockIndex = -1;
      return false;
    }
    this.blockIndex = i;
    this.block = this.table.blockIterator(i, this.fillCache, this.readahead);
    return true;
  }

  private skipForward(): void {
    while (this.block !== undefined && !this.block.valid()) {
      if (!this.load(this.blockIndex + 1)) return;
      this.block!.seekToFirst();
    }
  }

  private skipBackward(): void {
    while (this.block !== undefined && !this.block.valid()) {
      if (!this.load(this.blockIndex - 1)) return;
      this.block!.seekToLast();
    }
  }

  seekToFirst(): void {
    if (this.load(0)) this.block!.seekToFirst();
    this.skipForward();
  }

  seekToLast(): void {
    if (this.load(this.table.blockCount - 1)) this.block!.seekToLast();
    this.skipBackward();
  }

  seek(target: Uint8Array): void {
    if (this.load(this.table.findBlock(target))) this.block!.seek(target);
    this.skipForward();
  }

  next(): void {
    this.block!.next();
    this.skipForward();
  }

  prev(): void {
    this.block!.prev();
    this.skipBackward();
  }

  close(): void {
    this.block = undefined;
    if (this.readahead !== undefined) this.readahead.buf = new Uint8Array(0);
  }
}
