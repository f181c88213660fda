/**
 * The table cache: open TableReaders (each holding its index and bloom filter in memory and one
 * file descriptor), at most maxOpenFiles of them, least recently used closed first.
 *
 * Lookups and iterators run synchronously, so a reader missing from the cache is opened with
 * openSync (footer, index and filter read with readSync); flushes and compactions open their
 * outputs ahead of time, so that cold path is rare. A reader in use by an iterator is leased and
 * not closed until the lease ends, even if evicted meanwhile.
 */

import type { BlockCache } from "./cache/block-cache.js";
import { joinPath, tableFileName } from "./filenames.js";
import type { FileSystem } from "./fs/types.js";
import {
  compareInternalKeyRange,
  compareInternalKeys,
  compareUserKeyOf,
  filterKeyOf,
  TRAILER_BYTES,
  ValueType,
} from "./internal-key.js";
import type { InternalIterator } from "./iterator/types.js";
import type { FileMeta } from "./manifest/file-meta.js";
import type { TableAccess } from "./manifest/version.js";
import { type LookupResult, LookupState } from "./memtable/memtable.js";
import { TableReader, type TableReaderOptions } from "./sstable/index.js";

/** Internal keys order by their user-key bytes first. */
const userKeyLength = (ikey: Uint8Array): number => ikey.length - TRAILER_BYTES;

interface Entry {
  reader: TableReader;
  leases: number;
  evicted: boolean;
  /** Value of the use clock at the last use (least recently used = smallest). */
  lastUse: number;
}

export interface TableCacheOptions {
  maxOpenFiles: number;
  verifyChecksums: boolean;
  blockCache: BlockCache | undefined;
}

export class TableCache implements TableAccess {
  // LRU by a use clock rather than by re-inserting into the Map on every use: a Map delete+set
  // per lookup kept growing and rehashing the table (12% of a cached point lookup). Eviction
  // scans for the oldest entries, which only happens when a reader is opened past the limit.
  private readonly entries = new Map<number, Entry>();
  private clock = 0;
  /** Readers opened because they were not cached (stats). */
  misses = 0;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly options: TableCacheOptions,
  ) {}

  private readerOptions(fileNumber: number): TableReaderOptions {
    const o: TableReaderOptions = {
      compare: compareInternalKeys,
      filterKey: filterKeyOf,
      orderedPrefixLength: userKeyLength,
      compareRange: compareInternalKeyRange,
      fileNumber,
      verifyChecksums: this.options.verifyChecksums,
    };
    if (this.options.blockCache !== undefined) o.cache = this.options.blockCache;
    return o;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Opens (asynchronously) and caches the reader of a new or recovered table. */
  async open(file: FileMeta): Promise<void> {
    if (this.entries.has(file.number)) return;
    const path = joinPath(this.dir, tableFileName(file.number));
    const handle = await this.fs.openReadable(path);
    let reader: TableReader;
    try {
      reader = await TableReader.open(handle, this.readerOptions(file.number));
    } catch (e) {
      await handle.close().catch(() => {});
      throw e;
    }
    if (this.entries.has(file.number)) {
      await reader.close();
      return;
    }
    this.insert(file.number, reader);
  }

  private insert(number: number, reader: TableReader): Entry {
    const e: Entry = { reader, leases: 0, evicted: false, lastUse: ++this.clock };
    this.entries.set(number, e);
    this.trim();
    return e;
  }

  private entrySync(file: FileMeta): Entry {
    let e = this.entries.get(file.number);
    if (e !== undefined) {
      e.lastUse = ++this.clock;
      return e;
    }
    this.misses++;
    const path = joinPath(this.dir, tableFileName(file.number));
    const handle = this.fs.openReadableSync(path);
    let reader: TableReader;
    try {
      reader = TableReader.openSync(handle, this.readerOptions(file.number));
    } catch (err) {
      void handle.close().catch(() => {});
      throw err;
    }
    e = this.insert(file.number, reader);
    return e;
  }

  private trim(): void {
    while (this.entries.size > this.options.maxOpenFiles) {
      let victim: number | undefined;
      let oldest = Number.POSITIVE_INFINITY;
      for (const [number, e] of this.entries) {
        if (e.lastUse < oldest) {
          oldest = e.lastUse;
          victim = number;
        }
      }
      const e = this.entries.get(victim!)!;
      this.entries.delete(victim!);
      e.evicted = true;
      if (e.leases === 0) void e.reader.close().catch(() => {});
    }
  }

  get(
    file: FileMeta,
    lookupKey: Uint8Array,
    userKey: Uint8Array,
    keyHash: number,
    out: LookupResult,
  ): boolean {
    const reader = this.entrySync(file).reader;
    if (!reader.mayContainHash(keyHash)) return false;
    const hit = reader.seekForGet(lookupKey);
    if (hit === undefined) return false;
    // A view of the cursor's scratch key: inspected here and dropped.
    const k = hit.keyView();
    if (compareUserKeyOf(k, userKey) !== 0) return false;
    if (k[k.length - TRAILER_BYTES] === ValueType.Value) {
      out.state = LookupState.Found;
      // A view into the block, valid until the next lookup: the caller copies it at once.
      out.value = hit.value();
    } else {
      out.state = LookupState.Deleted;
      out.value = undefined;
    }
    return true;
  }

  /**
   * An iterator over a table. `scan`: a compaction input (see TableIteratorOptions.scan: values
   * are valid only until the next move, and blocks are not cached).
   */
  iterator(file: FileMeta, fillCache: boolean, scan = false): InternalIterator {
    const e = this.entrySync(file);
    e.leases++;
    // The reader's own iterator is returned (no wrapper on the hot calls); only close() is
    // hooked, to end the lease.
    const it = e.reader.iterator({ fillCache, scan });
    const innerClose = it.close;
    let released = false;
    it.close = () => {
      if (released) return;
      released = true;
      innerClose?.call(it);
      if (--e.leases === 0 && e.evicted) void e.reader.close().catch(() => {});
    };
    return it;
  }

  /** Closes and forgets a table's reader (the file is obsolete or was abandoned). */
  evict(number: number): void {
    const e = this.entries.get(number);
    this.options.blockCache?.evictFile(number);
    if (e === undefined) return;
    this.entries.delete(number);
    e.evicted = true;
    if (e.leases === 0) void e.reader.close().catch(() => {});
  }

  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) {
      e.evicted = true;
      await e.reader.close().catch(() => {});
    }
  }
}
