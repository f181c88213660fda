/**
 * Reads an immutable table. open() loads the footer, the index (decoded into arrays for a
 * binary search without allocation) and the filter into memory; data blocks are read on demand
 * with readSync through the shared block cache, so lookups and iterators never yield the loop.
 *
 * Every block is checked against its checksum before use (unless verifyChecksums is false), and
 * every structural check failure throws CorruptionError naming the file and the offset: damaged
 * data is reported, never returned.
 */

import type { BlockCache, PinnedBlock } from "../cache/block-cache.js";
import { CorruptionError, InvalidArgumentError } from "../errors.js";
import { bloomHash, bloomProbe, bloomShape } from "../filter/bloom.js";
import type { FileHandle } from "../fs/types.js";
import type { Comparator, InternalIterator } from "../iterator/types.js";
import { BufferPool } from "../util/buffer-pool.js";
import { ByteWriter } from "../util/byte-writer.js";
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
  /**
   * How many leading bytes of `key` `compare` orders bytewise before looking at anything else
   * (all of them for plain bytewise order; the user-key part for internal keys). Given, the
   * index search compares the first 8 of those bytes as two integers kept in flat arrays and
   * calls `compare` only on ties: a binary search over per-block key objects spread over the
   * heap was mostly cache misses (11% of an uncached point lookup).
   */
  orderedPrefixLength?: (key: Uint8Array) => number;
  /**
   * compare(a.subarray(aStart, aEnd), b) without making the view. The index keeps its keys in
   * one flat array (an object per key cost ~250 bytes of heap each, most of a database's live
   * heap); given this, comparing against them allocates nothing.
   */
  compareRange?: (a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array) => number;
}

export interface TableIteratorOptions {
  /**
   * Insert blocks read by this iterator into the cache. Compactions pass false so that a
   * one-time scan does not evict the hot blocks. With a cache and fillCache, the iterator pins
   * the block it is on and releases it when it moves on, after which the cache may reuse the
   * block's buffer: a value() is then valid only until the iterator leaves its block (keys are
   * always fresh arrays).
   * @default true
   */
  fillCache?: boolean;
  /**
   * A single forward pass whose caller is done with each value before it moves the iterator
   * (a compaction copies every entry into its output at once). Blocks not in the cache are then
   * read READAHEAD_BYTES at a time into one buffer that is refilled in place, and returned to a
   * shared pool on close(), instead of a fresh buffer per window. Values are valid only until the
   * next move. Implies fillCache: false.
   * @default false
   */
  scan?: boolean;
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
  /** Valid bytes of the window. */
  length: number;
  buf: Uint8Array;
  /** Refill buf in place (scan iterators) rather than allocating a new window. */
  reuse: boolean;
}

/** Idle scan windows kept for the next compaction instead of being freed and reallocated. */
const scanBuffers = new BufferPool(READAHEAD_BYTES, 8);

/** Block iterators of closed table iterators kept per table for reuse. */
const MAX_SPARE_BLOCK_ITERATORS = 2;

/**
 * Block buffers are allocated in multiples of this, so that a buffer recycled from an evicted
 * block fits most other blocks of a table (their sizes vary by up to an entry).
 */
const BLOCK_ALLOC_ROUNDING = 256;

export class TableReader {
  readonly fileSize: number;
  readonly fileNumber: number;
  private readonly compare: Comparator;
  private readonly cache: BlockCache | undefined;
  private readonly verify: boolean;
  /**
   * Index entries: the last key of each data block, all in one array (key i is
   * indexData[indexStarts[i], indexStarts[i + 1])), and the block's handle.
   */
  private readonly indexData: Uint8Array;
  private readonly indexStarts: Uint32Array;
  private readonly blocks: number;
  private readonly compareRange:
    | ((a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array) => number)
    | undefined;
  /** First 8 ordered bytes of each index key, big-endian, zero padded (orderedPrefixLength). */
  private readonly indexPrefixHi: Uint32Array | undefined;
  private readonly indexPrefixLo: Uint32Array | undefined;
  private readonly prefixLength: ((key: Uint8Array) => number) | undefined;
  private readonly blockOffsets: Float64Array;
  private readonly blockSizes: Float64Array;
  private readonly filter: Uint8Array | undefined;
  /** The filter's bit count and probe count, decoded once (0 probes: the filter says yes). */
  private readonly filterBits: number;
  private readonly filterProbes: number;
  /** End of the data blocks (where the filter or index starts). */
  private readonly dataEnd: number;
  /** Reused by point lookups (which finish before the next one starts: all synchronous). */
  private cursor: BlockIterator | undefined;
  /** Block iterators of closed table iterators, for the next ones (short scans open many). */
  private readonly spareIterators: BlockIterator[] = [];
  private closed = false;

  private constructor(
    readonly file: FileHandle,
    options: TableReaderOptions,
    fileSize: number,
    index: DecodedIndex,
    filter: Uint8Array | undefined,
    dataEnd: number,
  ) {
    this.fileSize = fileSize;
    this.fileNumber = options.fileNumber;
    this.compare = options.compare;
    this.cache = options.cache;
    this.verify = options.verifyChecksums ?? true;
    this.indexData = index.data;
    this.indexStarts = index.starts;
    this.blocks = index.starts.length - 1;
    this.compareRange = options.compareRange;
    const prefixLength = options.orderedPrefixLength;
    this.prefixLength = prefixLength;
    if (prefixLength !== undefined) {
      const n = this.blocks;
      this.indexPrefixHi = new Uint32Array(n);
      this.indexPrefixLo = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        const k = this.indexKey(i);
        const len = prefixLength(k);
        this.indexPrefixHi[i] = prefixWord(k, len, 0);
        this.indexPrefixLo[i] = prefixWord(k, len, 4);
      }
    }
    this.blockOffsets = index.offsets;
    this.blockSizes = index.sizes;
    this.filter = filter;
    const shape = filter === undefined ? undefined : bloomShape(filter);
    this.filterBits = shape?.bits ?? 0;
    this.filterProbes = shape?.probes ?? 0;
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
    for (let i = 0; i < index.offsets.length; i++) {
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
    return this.blocks;
  }

  /** False means the table surely holds no key whose filterKey is `filterKey`. */
  mayContain(filterKey: Uint8Array): boolean {
    return this.mayContainHash(bloomHash(filterKey));
  }

  /** As mayContain, for a hash computed once with bloomHash() and reused across tables. */
  mayContainHash(hash: number): boolean {
    if (this.filterProbes === 0) return true;
    return bloomProbe(this.filter!, this.filterBits, this.filterProbes, hash);
  }

  /** The first entry with key >= lookupKey, or undefined. Does not consult the filter. */
  get(lookupKey: Uint8Array): TableEntry | undefined {
    const it = this.seekForGet(lookupKey);
    // The value is copied: the block's buffer may be recycled by the cache after this call.
    return it === undefined ? undefined : { key: it.key(), value: it.value().slice() };
  }

  /**
   * The point-lookup form of get(): positions the reader's own block cursor on the first entry
   * with key >= lookupKey and returns it (undefined if there is none). The cursor, its keyView()
   * and its value range stay valid only until the next call on this reader, which is enough for
   * a synchronous lookup and allocates nothing when the block is cached.
   */
  seekForGet(lookupKey: Uint8Array): BlockIterator | undefined {
    let b = this.findBlock(lookupKey);
    if (b >= this.blocks) return undefined;
    const it = this.loadCursor(b);
    it.seek(lookupKey);
    if (!it.valid()) {
      // Only possible if the index key is not the block's last key (corrupt); try the next block.
      b++;
      if (b >= this.blocks) return undefined;
      this.loadCursor(b).seekToFirst();
      if (!it.valid()) return undefined;
    }
    return it;
  }

  private loadCursor(b: number): BlockIterator {
    const offset = this.blockOffsets[b]!;
    const block = this.readBlock(offset, this.blockSizes[b]!, BlockUse.Lookup, undefined);
    let it = this.cursor;
    if (it === undefined) {
      it = new BlockIterator(block, this.compare, this.file.path, offset);
      this.cursor = it;
    } else {
      it.reset(block, this.file.path, offset);
    }
    return it;
  }

  /** A sorted iterator over the whole table. Synchronous. */
  iterator(options: TableIteratorOptions = {}): InternalIterator {
    this.checkOpen();
    const scan = options.scan ?? false;
    return new TableIterator(this, scan ? false : (options.fillCache ?? true), scan);
  }

  /** Approximate file offset where `key` would be (for size estimates of key ranges). */
  approximateOffsetOf(key: Uint8Array): number {
    const b = this.findBlock(key);
    return b < this.blocks ? this.blockOffsets[b]! : this.dataEnd;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.file.close();
  }

  // ---- internals shared with TableIterator ----

  /** Index of the first block whose last key is >= key (blockCount if none). */
  findBlock(key: Uint8Array): number {
    let lo = 0;
    let hi = this.blocks;
    const pHi = this.indexPrefixHi;
    const pLo = this.indexPrefixLo;
    if (pHi === undefined || pLo === undefined) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.compareIndexKey(mid, key) < 0) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    }
    const len = this.prefixLength!(key);
    const kHi = prefixWord(key, len, 0);
    const kLo = prefixWord(key, len, 4);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const h = pHi[mid]!;
      const l = pLo[mid]!;
      // The zero-padded prefixes order like the keys wherever they differ.
      const less = h !== kHi ? h < kHi : l !== kLo ? l < kLo : this.compareIndexKey(mid, key) < 0;
      if (less) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** compare(index key i, key). */
  private compareIndexKey(i: number, key: Uint8Array): number {
    const start = this.indexStarts[i]!;
    const end = this.indexStarts[i + 1]!;
    const range = this.compareRange;
    if (range !== undefined) return range(this.indexData, start, end, key);
    return this.compare(this.indexData.subarray(start, end), key);
  }

  /** Index key i (a view). */
  private indexKey(i: number): Uint8Array {
    return this.indexData.subarray(this.indexStarts[i]!, this.indexStarts[i + 1]!);
  }

  /**
   * Points `reuse` (or a new block iterator) at data block i, read for `use` (Pin: the block
   * is pinned in the cache and this.lastPin says so; release it with unpin()).
   */
  blockIterator(
    i: number,
    use: BlockUse,
    readahead?: Readahead,
    reuse?: BlockIterator,
  ): BlockIterator {
    const offset = this.blockOffsets[i]!;
    const block = this.readBlock(offset, this.blockSizes[i]!, use, readahead);
    try {
      if (reuse === undefined) {
        return new BlockIterator(block, this.compare, this.file.path, offset);
      }
      reuse.reset(block, this.file.path, offset);
      return reuse;
    } catch (e) {
      if (use === BlockUse.Pin) this.unpin(this.lastPin);
      throw e;
    }
  }

  /** Set by readBlock with BlockUse.Pin: the pin to release (undefined: nothing pinned). */
  lastPin: PinnedBlock | undefined;

  /** Releases a pin taken by a BlockUse.Pin read. */
  unpin(pin: PinnedBlock | undefined): void {
    this.cache?.unpin(pin);
  }

  /**
   * A verified data block: from the cache, or read (and cached unless use is Uncached). The
   * use says how long the caller keeps the block (see BlockUse and BlockCache): blocks that are
   * not shared get their buffers recycled by the cache for later reads (a fresh off-heap buffer
   * per read costs an allocation, page faults and garbage-collector work).
   */
  private readBlock(
    offset: number,
    size: number,
    use: BlockUse,
    readahead: Readahead | undefined,
  ): Uint8Array {
    const cache = this.cache;
    if (use === BlockUse.Pin) this.lastPin = undefined;
    if (cache !== undefined) {
      if (use === BlockUse.Pin) {
        const pinned = cache.pin(this.fileNumber, offset);
        if (pinned !== undefined) {
          this.lastPin = pinned;
          return pinned.block;
        }
      } else {
        const hit = cache.get(this.fileNumber, offset, use !== BlockUse.Lookup);
        if (hit !== undefined) return hit;
      }
    }
    this.checkOpen();
    const need = size + BLOCK_TRAILER_SIZE;
    const fill = cache !== undefined && use !== BlockUse.Uncached;
    let raw: Uint8Array;
    if (readahead === undefined) {
      const cap = Math.ceil(need / BLOCK_ALLOC_ROUNDING) * BLOCK_ALLOC_ROUNDING;
      const recycled = fill && use !== BlockUse.Shared ? cache.takeBuffer(cap) : undefined;
      raw = readExactSync(this.file, offset, need, this.fileSize, recycled ?? cap);
    } else {
      // Sequential scans (compactions) read READAHEAD_BYTES at a time instead of one block.
      const ra = readahead;
      if (!(offset >= ra.start && offset + need <= ra.start + ra.length)) {
        const len = Math.max(need, Math.min(READAHEAD_BYTES, this.dataEnd - offset));
        if (ra.reuse) {
          if (ra.buf.length < len) {
            scanBuffers.give(ra.buf);
            ra.buf = scanBuffers.take(len);
          }
          readExactSync(this.file, offset, len, this.fileSize, ra.buf);
        } else {
          ra.buf = readExactSync(this.file, offset, len, this.fileSize);
        }
        ra.start = offset;
        ra.length = len;
      }
      raw = ra.buf.subarray(offset - ra.start, offset - ra.start + need);
    }
    const block = checkBlock(this.file.path, offset, raw, this.verify);
    if (fill) {
      if (use === BlockUse.Pin && readahead === undefined) {
        this.lastPin = cache.setPinned(this.fileNumber, offset, block);
      } else {
        cache.set(
          this.fileNumber,
          offset,
          block,
          readahead === undefined && use === BlockUse.Lookup,
        );
      }
    }
    return block;
  }

  /** A block iterator left by a closed table iterator, if any (to reset() before use). */
  takeBlockIterator(): BlockIterator | undefined {
    return this.spareIterators.pop();
  }

  /** Keeps a table iterator's block iterator for the next one; it must not be used again. */
  giveBlockIterator(it: BlockIterator): void {
    if (this.spareIterators.length < MAX_SPARE_BLOCK_ITERATORS) this.spareIterators.push(it);
  }

  /** Returns a scan iterator's window to the shared pool. */
  releaseReadahead(ra: Readahead): void {
    if (ra.reuse) scanBuffers.give(ra.buf);
    ra.buf = EMPTY;
    ra.start = 0;
    ra.length = 0;
  }

  private checkOpen(): void {
    if (this.closed) throw new InvalidArgumentError(`table ${this.file.path} is closed`);
  }
}

function checkReaderOptions(o: TableReaderOptions): void {
  if (typeof o.compare !== "function" || typeof o.filterKey !== "function") {
    throw new InvalidArgumentError("TableReader needs compare and filterKey functions");
  }
  if (o.orderedPrefixLength !== undefined && typeof o.orderedPrefixLength !== "function") {
    throw new InvalidArgumentError("orderedPrefixLength must be a function");
  }
  if (o.compareRange !== undefined && typeof o.compareRange !== "function") {
    throw new InvalidArgumentError("compareRange must be a function");
  }
  if (!Number.isSafeInteger(o.fileNumber) || o.fileNumber < 0) {
    throw new InvalidArgumentError(`bad fileNumber ${o.fileNumber}`);
  }
}

const EMPTY = new Uint8Array(0);

/** How a reader of a block keeps it, which decides when the cache may reuse its buffer. */
export const BlockUse = {
  /** Within the current synchronous call only (point lookups). */
  Lookup: 0,
  /** Pinned until unpin() (iterators that fill the cache). */
  Pin: 1,
  /** For as long as the caller likes (never recycled). */
  Shared: 2,
  /** Not inserted into the cache (compaction scans, fillCache: false). */
  Uncached: 3,
} as const;
export type BlockUse = (typeof BlockUse)[keyof typeof BlockUse];

/** Bytes key[at, at + 4) as a big-endian word, counting bytes at or past `len` as zero. */
function prefixWord(key: Uint8Array, len: number, at: number): number {
  const n = Math.min(len, 8);
  const b0 = at < n ? key[at]! : 0;
  const b1 = at + 1 < n ? key[at + 1]! : 0;
  const b2 = at + 2 < n ? key[at + 2]! : 0;
  const b3 = at + 3 < n ? key[at + 3]! : 0;
  return ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

/**
 * Reads exactly len bytes at pos into the start of `into` (a buffer, or a capacity to allocate
 * with); returns a view of them.
 */
function readExactSync(
  file: FileHandle,
  pos: number,
  len: number,
  size: number,
  into: ArrayBuffer | Uint8Array | number = len,
): Uint8Array {
  if (pos < 0 || pos + len > size) {
    throw new CorruptionError(
      file.path,
      Math.max(0, pos),
      `read of ${len} bytes past the end of a ${size}-byte file (truncated?)`,
    );
  }
  let buf: Uint8Array;
  if (typeof into === "number") {
    // Not zero-filled: every byte is overwritten by the read, or we throw.
    const b = Buffer.allocUnsafeSlow(Math.max(len, into));
    buf = new Uint8Array(b.buffer, b.byteOffset, len);
  } else if (into instanceof ArrayBuffer) {
    buf = new Uint8Array(into, 0, len);
  } else {
    buf = into.length === len ? into : into.subarray(0, len);
  }
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

/** Verifies a block's trailer; returns the contents (a view of raw's memory). */
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
  return new Uint8Array(raw.buffer, raw.byteOffset, n);
}

interface DecodedIndex {
  /** All keys, back to back; key i is data[starts[i], starts[i + 1]). */
  data: Uint8Array;
  starts: Uint32Array;
  offsets: Float64Array;
  sizes: Float64Array;
}

function decodeIndex(
  file: string,
  offset: number,
  block: Uint8Array,
  compare: Comparator,
): DecodedIndex {
  const data = new ByteWriter(block.length);
  const starts: number[] = [0];
  const offsets: number[] = [];
  const sizes: number[] = [];
  const it = new BlockIterator(block, compare, file, offset);
  let last: Uint8Array | undefined;
  for (it.seekToFirst(); it.valid(); it.next()) {
    const k = it.key();
    if (last !== undefined && compare(last, k) >= 0) {
      throw new CorruptionError(file, offset, "index keys out of order");
    }
    last = k;
    const v = it.value();
    const r = new ByteReader(v, 0, v.length, file, offset);
    const h = decodeBlockHandle(r);
    data.putBytes(k);
    starts.push(data.length);
    offsets.push(h.offset);
    sizes.push(h.size);
  }
  if (offsets.length === 0) throw new CorruptionError(file, offset, "empty index block");
  return {
    data: data.toBytes(),
    starts: Uint32Array.from(starts),
    offsets: Float64Array.from(offsets),
    sizes: Float64Array.from(sizes),
  };
}

/** Two-level iterator: a position in the index plus an iterator over that data block. */
class TableIterator implements InternalIterator {
  private blockIndex = -1;
  /** The current block's iterator; undefined when unpositioned. */
  private block: BlockIterator | undefined;
  /** The one block iterator this iterator points at block after block. */
  private spare: BlockIterator | undefined;
  private readonly readahead: Readahead | undefined;
  private readonly use: BlockUse;
  /** The cache pin on the current block (BlockUse.Pin), released when moving off it. */
  private pin: PinnedBlock | undefined;

  constructor(
    private readonly table: TableReader,
    fillCache: boolean,
    scan: boolean,
  ) {
    this.use = fillCache ? BlockUse.Pin : BlockUse.Uncached;
    this.spare = table.takeBlockIterator();
    this.readahead = fillCache
      ? undefined
      : { start: 0, length: 0, buf: scan ? scanBuffers.take(READAHEAD_BYTES) : EMPTY, reuse: scan };
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
      this.releasePin();
      return false;
    }
    const t = this.table;
    const it = t.blockIterator(i, this.use, this.readahead, this.spare);
    // The old block's pin goes only now: the new one is read (an error above leaves us on it).
    this.releasePin();
    if (this.use === BlockUse.Pin) this.pin = t.lastPin;
    this.blockIndex = i;
    this.block = it;
    this.spare = it;
    return true;
  }

  private releasePin(): void {
    const p = this.pin;
    if (p !== undefined) {
      this.pin = undefined;
      this.table.unpin(p);
    }
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
    if (this.spare !== undefined) this.table.giveBlockIterator(this.spare);
    this.spare = undefined;
    this.releasePin();
    if (this.readahead !== undefined) this.table.releaseReadahead(this.readahead);
  }
}
