/**
 * The database: write path (WAL group commit + memtable), read path (memtable, frozen memtables,
 * tables), background flushes and compactions, recovery, snapshots and iterators.
 *
 * Threading model: everything runs on the event loop. put/delete/write encode their batch and
 * queue it; a microtask drains the queue, so every write issued in one turn goes to the WAL in one
 * appendSync (group commit), then into the memtable, then resolves. Sync writers additionally
 * share one fdatasync. get() is synchronous inside (memtable, then tables via readSync and the
 * block cache). Flushes and compactions are async loops that do their CPU work in ~1 ms slices.
 */

import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { ActiveLog } from "./active-log.js";
import { BlockCache } from "./cache/block-cache.js";
import { BackgroundWorker } from "./compaction/background-worker.js";
import {
  type Compaction,
  isTrivialMove,
  manualCompaction,
  pickCompaction,
} from "./compaction/compaction.js";
import {
  installCompaction,
  mergeSpecOf,
  runCompaction,
  runTrivialMove,
} from "./compaction/compaction-job.js";
import { flushMemtable, writeLevel0Table } from "./compaction/flush-job.js";
import {
  emptyJobStats,
  JobAborted,
  type JobContext,
  tableSettingsOf,
} from "./compaction/job-context.js";
import { loopClock } from "./compaction/slicer.js";
import { copyBytes } from "./copy-bytes.js";
import { DbIterator, type IteratorLink, type IteratorOptions } from "./db-iterator.js";
import {
  ClosedError,
  CorruptionError,
  InvalidArgumentError,
  IoError,
  isLsmError,
} from "./errors.js";
import {
  CURRENT_FILE,
  FileType,
  joinPath,
  LOCK_FILE,
  logFileName,
  parseFileName,
  tableFileName,
} from "./filenames.js";
import { bloomHash } from "./filter/bloom.js";
import { NodeFileSystem } from "./fs/node-fs.js";
import type { FileLock, FileSystem } from "./fs/types.js";
import {
  compareInternalKeys,
  encodeTrailer,
  makeInternalKey,
  TRAILER_BYTES,
  TYPE_FOR_SEEK,
  ValueType,
} from "./internal-key.js";
import { MergingIterator } from "./iterator/merging-iterator.js";
import { SequenceIterator } from "./iterator/sequence-iterator.js";
import type { InternalIterator } from "./iterator/types.js";
import type { FileMeta } from "./manifest/file-meta.js";
import type { Version } from "./manifest/version.js";
import { VersionEdit } from "./manifest/version-edit.js";
import { VersionSet } from "./manifest/version-set.js";
import { type LookupResult, LookupState, Memtable, MemtablePool } from "./memtable/memtable.js";
import {
  type DbOptions,
  type ResolvedDbOptions,
  resolveDbOptions,
  type WriteOptions,
} from "./options.js";
import { Snapshot, SnapshotList } from "./snapshot.js";
import { TableCache } from "./table-cache.js";
import { readLogWithStatus } from "./wal/log-reader.js";
import { LogWriter } from "./wal/log-writer.js";
import {
  assertKey,
  assertValue,
  batchCount,
  encodeSingle,
  forEachBatchRecord,
  insertBatch,
  setBatchSequence,
  WriteBatch,
} from "./write-batch.js";

export interface ReadOptions {
  /** Read as of this snapshot instead of the latest state. */
  snapshot?: Snapshot;
}

/** The version and memtables an open iterator keeps from being deleted or reused. */
interface IteratorPins {
  version: Version;
  mems: Memtable[];
  /** Where the iterator's record is in Db.iteratorSlots. */
  slot: number;
}

/** What the database keeps of an open iterator (never the DbIterator itself). */
interface IteratorRecord extends IteratorLink {
  inner: SequenceIterator;
  pins: IteratorPins;
}

/** A queued write (or, with rep === null, a request to switch to a fresh memtable). */
interface Writer {
  rep: Uint8Array | null;
  sync: boolean;
  userBytes: number;
  resolve(): void;
  reject(e: unknown): void;
}

/** Stop merging queued writes into one WAL write beyond this many bytes (bounds latency). */
const MAX_GROUP_BYTES = 1 << 20;

export interface LevelStats {
  level: number;
  files: number;
  bytes: number;
  /** Compaction score: files/trigger for L0, bytes/budget deeper; >= 1 means due. */
  score: number;
}

export interface DbStats {
  levels: LevelStats[];
  /** Sum of all table sizes. */
  tableBytes: number;
  memtable: {
    /** Approximate bytes of the active memtable (counted against writeBufferBytes). */
    bytes: number;
    entries: number;
    /** Frozen memtables waiting for (or in) their flush. */
    immutable: number;
    immutableBytes: number;
  };
  blockCache: { hits: number; misses: number; bytes: number; capacityBytes: number };
  tableCache: { open: number; misses: number };
  /**
   * (WAL bytes + flushed table bytes + compaction output bytes) / user bytes (keys + values
   * written). About 2-3 right after loading, growing with compaction.
   */
  writeAmplification: number;
  bytes: {
    user: number;
    wal: number;
    flushWritten: number;
    compactionRead: number;
    compactionWritten: number;
  };
  /**
   * Estimate of the bytes compaction must rewrite to bring every level within budget: the L0
   * bytes once L0 reached its trigger, plus each deeper level's bytes over its budget.
   */
  pendingCompactionBytes: number;
  writeStall: {
    /** Write groups delayed by slowdownDelayMs because L0 reached l0SlowdownTrigger. */
    slowdowns: number;
    slowdownMs: number;
    /** Times writes stopped (memtables full, or L0 at l0StopTrigger) until background work. */
    stops: number;
    stopMs: number;
  };
  flushes: number;
  compactions: number;
  trivialMoves: number;
  /** Compactions merged on the worker thread (compactionWorker). */
  workerCompactions: number;
  entriesDroppedByCompaction: number;
  walSyncs: number;
  /** Last sequence number assigned. */
  sequence: number;
  liveSnapshots: number;
  openIterators: number;
  /** Message of the error that stopped background work, if any (writes then fail). */
  backgroundError: string | undefined;
}

/**
 * Opens (creating if needed) the database in `dir`. Only one open handle per directory at a
 * time: a second open fails with LockedError.
 */
export function open(dir: string, options?: DbOptions): Promise<Db> {
  return Db.open(dir, options);
}

export class Db {
  private state: "open" | "closing" | "closed" = "open";
  /** False from the moment close() is called: new requests fail, queued writes still finish. */
  private accepting = true;
  private closePromise: Promise<void> | undefined;
  private mem: Memtable;
  /** Arena memory passed from retired memtables to new ones. */
  private readonly memPool: MemtablePool;
  /** Frozen memtables, oldest first. */
  private imms: Memtable[] = [];
  private log: ActiveLog;
  private readonly snapshots = new SnapshotList();
  // The database's side of each open iterator, by what it pins. A record never references its
  // DbIterator, so an iterator dropped without close() can be collected; the finalizer then
  // releases what it pinned. (A WeakRef per iterator would keep every iterator of a long chain
  // of microtasks alive until the chain ends: WeakRef targets are held for the rest of the job.)
  // Records sit in numbered slots (reused) rather than in a Map: a Map entry added and removed
  // per iterator kept reallocating the Map's table.
  private readonly iteratorSlots: (IteratorRecord | undefined)[] = [];
  private readonly freeIteratorSlots: number[] = [];
  private openIterators = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly pendingOutputs = new Set<number>();
  private bgError: unknown;

  // Write queue (array + head index: shift() would be O(n)).
  private queue: Writer[] = [];
  private queueHead = 0;
  private drainScheduled = false;
  private waitingForRoom = false;
  private allowDelay = true;
  private readonly drainFn = (): void => this.drain();

  // Background work.
  private flushRunning = false;
  private flushDone: Promise<void> = Promise.resolve();
  private compactionLoopRunning = false;
  private compactionDone: Promise<void> = Promise.resolve();
  private compactionRunning = false;
  private pushDownGate: Promise<void> | null = null;
  private readonly worker: BackgroundWorker | undefined;
  private progressWaiters: (() => void)[] = [];
  private readonly manualQueue: {
    level: number;
    outputLevel: number;
    begin: Uint8Array | undefined;
    end: Uint8Array | undefined;
    resolve(): void;
    reject(e: unknown): void;
  }[] = [];
  private deleting: Promise<void> | null = null;
  private deleteAgain = false;

  private readonly lookup: LookupResult = { state: LookupState.NotFound, value: undefined };
  /** Scratch lookup keys by user-key length (keys up to 255 bytes). */
  private readonly lookupKeys: (Uint8Array | undefined)[] = new Array(256).fill(undefined);
  private readonly jobStats = emptyJobStats();
  private userBytes = 0;
  private walBytesClosed = 0;
  private walSyncsClosed = 0;
  private slowdowns = 0;
  private slowdownMs = 0;
  private stops = 0;
  private stopMs = 0;
  private readonly ctx: JobContext;
  private readonly finalizer = new FinalizationRegistry<IteratorPins>((pins) => {
    const rec = this.iteratorSlots[pins.slot];
    if (rec === undefined || rec.pins !== pins) return;
    // Nobody can use the iterator any more: release its tables, blocks and memtables.
    rec.inner.close();
    this.iteratorReleased(rec);
  });

  private constructor(
    readonly dir: string,
    private readonly options: ResolvedDbOptions,
    private readonly fs: FileSystem,
    private readonly lock: FileLock,
    private readonly versions: VersionSet,
    private readonly tables: TableCache,
    private readonly blockCache: BlockCache | undefined,
    log: ActiveLog,
  ) {
    this.log = log;
    log.onError = (e) => this.setBgError(e);
    this.worker = options.compactionWorker
      ? new BackgroundWorker({ dir, verifyChecksums: options.verifyChecksums })
      : undefined;
    this.memPool = MemtablePool.forWriteBuffer(options.writeBufferBytes);
    this.mem = new Memtable(this.memPool);
    this.mem.logNumber = log.number;
    this.ctx = {
      fs,
      dir,
      options,
      versions,
      tables,
      pendingOutputs: this.pendingOutputs,
      stats: this.jobStats,
      smallestSnapshot: () => this.snapshots.oldest() ?? this.versions.lastSequence,
      isClosing: () => this.state !== "open",
      table: tableSettingsOf(options),
      newFileNumber: () => versions.newFileNumber(),
      canAllocate: () => true,
      iterator: (f) => tables.iterator(f, false, true),
    };
  }

  // ---------------------------------------------------------------- open / recovery

  static async open(dir: string, options?: DbOptions): Promise<Db> {
    if (typeof dir !== "string" || dir.length === 0) {
      throw new InvalidArgumentError("dir must be a non-empty string");
    }
    const opts = resolveDbOptions(options, () => new NodeFileSystem());
    const fs = opts.fs;
    if (opts.createIfMissing) {
      await fs.mkdir(dir);
    } else if (!(await fs.exists(dir))) {
      throw new InvalidArgumentError(
        `database directory ${dir} does not exist (createIfMissing is false)`,
      );
    }
    const lock = await fs.lock(joinPath(dir, LOCK_FILE));
    const blockCache = opts.blockCacheBytes > 0 ? new BlockCache(opts.blockCacheBytes) : undefined;
    const tables = new TableCache(fs, dir, {
      maxOpenFiles: opts.maxOpenFiles,
      verifyChecksums: opts.verifyChecksums,
      blockCache,
    });
    const versions = new VersionSet(fs, dir, opts);
    try {
      const recovered = await recover(dir, opts, fs, versions, tables);
      const db = new Db(dir, opts, fs, lock, versions, tables, blockCache, recovered.log);
      db.userBytes = 0;
      await db.deleteObsoleteFiles();
      db.maybeScheduleWork();
      return db;
    } catch (e) {
      await tables.closeAll().catch(() => {});
      await versions.close().catch(() => {});
      await lock.release().catch(() => {});
      throw e;
    }
  }

  // ---------------------------------------------------------------- writes

  /** Stores `value` under `key`. */
  put(key: Uint8Array, value: Uint8Array, options?: WriteOptions): Promise<void> {
    try {
      this.checkOpen();
      assertKey(key);
      assertValue(value);
      this.checkSizes(key.length, value.length);
      const rep = encodeSingle(ValueType.Value, key, value);
      return this.enqueue(rep, options?.sync === true, key.length + value.length);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Removes `key` (a no-op if it is absent). */
  delete(key: Uint8Array, options?: WriteOptions): Promise<void> {
    try {
      this.checkOpen();
      assertKey(key);
      this.checkSizes(key.length, 0);
      const rep = encodeSingle(ValueType.Deletion, key, undefined);
      return this.enqueue(rep, options?.sync === true, key.length);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Applies every operation of `batch` atomically (all or none survive a crash). */
  write(batch: WriteBatch, options?: WriteOptions): Promise<void> {
    try {
      this.checkOpen();
      if (!(batch instanceof WriteBatch)) {
        throw new InvalidArgumentError(
          "write() takes a WriteBatch (db.batch() or new WriteBatch())",
        );
      }
      if (batch.length === 0) return Promise.resolve();
      this.checkSizes(batch.maxKeyBytes, batch.maxValueBytes);
      return this.enqueue(batch.encode(), options?.sync === true, batch.userBytes);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** A new empty WriteBatch (same as `new WriteBatch()`). */
  batch(): WriteBatch {
    return new WriteBatch();
  }

  private checkSizes(keyBytes: number, valueBytes: number): void {
    if (keyBytes > this.options.maxKeyBytes) {
      throw new InvalidArgumentError(
        `key of ${keyBytes} bytes exceeds maxKeyBytes (${this.options.maxKeyBytes})`,
      );
    }
    if (valueBytes > this.options.maxValueBytes) {
      throw new InvalidArgumentError(
        `value of ${valueBytes} bytes exceeds maxValueBytes (${this.options.maxValueBytes})`,
      );
    }
  }

  private enqueue(rep: Uint8Array | null, sync: boolean, userBytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ rep, sync, userBytes, resolve, reject });
      if (!this.drainScheduled) {
        this.drainScheduled = true;
        queueMicrotask(this.drainFn);
      }
    });
  }

  /**
   * Writes queued batches: one appendSync per group, then the memtable, then resolution (or a
   * shared fdatasync for sync writers). Pauses (asynchronously) when the memtable must be
   * switched or writes must slow down or stop.
   */
  private drain(): void {
    this.drainScheduled = false;
    if (this.waitingForRoom) return;
    const q = this.queue;
    while (this.queueHead < q.length) {
      if (this.bgError !== undefined) {
        this.failQueue(this.writeErrorOf(this.bgError));
        return;
      }
      const first = q[this.queueHead]!;
      if (first.rep === null) {
        // A flush() request: freeze the memtable if it has anything.
        if (this.mem.isEmpty()) {
          this.queueHead++;
          first.resolve();
          continue;
        }
        this.waitFor(this.makeRoom(true), () => {
          this.queueHead++;
          first.resolve();
        });
        return;
      }
      const wait = this.makeRoomForWrite();
      if (wait !== null) {
        this.waitFor(wait, undefined);
        return;
      }
      // Take a group of writes.
      const start = this.queueHead;
      let end = start;
      let bytes = 0;
      while (end < q.length) {
        const w = q[end]!;
        if (w.rep === null) break;
        if (end > start && bytes + w.rep.length > MAX_GROUP_BYTES) break;
        bytes += w.rep.length;
        end++;
      }
      this.queueHead = end;
      this.writeGroup(q, start, end);
      this.allowDelay = true;
    }
    // Everything written: reset the queue array.
    this.queue = [];
    this.queueHead = 0;
    this.notifyIdle();
  }

  private notifyIdle(): void {
    const w = this.idleWaiters;
    if (w.length === 0) return;
    this.idleWaiters = [];
    for (const r of w) r();
  }

  /** Resolves once every write queued so far was written (or failed). */
  private writesIdle(): Promise<void> {
    if (this.queueHead >= this.queue.length) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private writeGroup(q: Writer[], start: number, end: number): void {
    const writer = this.log.writer;
    let seq = this.versions.lastSequence;
    try {
      for (let i = start; i < end; i++) {
        const rep = q[i]!.rep!;
        setBatchSequence(rep, seq + 1);
        seq += batchCount(rep);
        writer.bufferRecord(rep);
      }
      writer.flush();
    } catch (e) {
      const err = new IoError("WAL write failed", `${this.dir}/${logFileName(this.log.number)}`, {
        cause: e,
      });
      this.setBgError(err);
      for (let i = start; i < end; i++) q[i]!.reject(err);
      return;
    }
    const mem = this.mem;
    for (let i = start; i < end; i++) {
      const w = q[i]!;
      insertBatch(w.rep!, mem);
      this.userBytes += w.userBytes;
    }
    this.versions.lastSequence = seq;
    const defer = this.backgroundStarved();
    let deferred: Writer[] | undefined;
    for (let i = start; i < end; i++) {
      const w = q[i]!;
      if (w.sync) this.log.requestSync(w);
      else if (defer) {
        deferred ??= [];
        deferred.push(w);
      } else w.resolve();
    }
    if (deferred !== undefined) {
      const ws = deferred;
      setImmediate(() => {
        loopClock.lastTurnAt = performance.now();
        for (const w of ws) w.resolve();
      });
    }
  }

  /**
   * True when background work is pending but has not had a slice for two slice lengths: the
   * caller then resolves through setImmediate, so a tight loop of awaited operations (which only
   * runs microtasks) lets flushes and compactions progress instead of stopping later, and lets
   * the worker thread's replies be received.
   */
  private backgroundStarved(): boolean {
    // A worker merge needs event-loop turns too: its reply arrives as a message.
    if (!this.flushRunning && !this.compactionRunning) return false;
    const now = performance.now();
    if (now - loopClock.lastTurnAt < 2 * this.options.backgroundSliceMs) return false;
    loopClock.lastTurnAt = now;
    return true;
  }

  private waitFor(p: Promise<void>, then: (() => void) | undefined): void {
    this.waitingForRoom = true;
    p.then(
      () => {
        this.waitingForRoom = false;
        then?.();
        this.drain();
      },
      (e: unknown) => {
        this.waitingForRoom = false;
        this.setBgError(e);
        this.drain();
      },
    );
  }

  /**
   * leveldb's MakeRoomForWrite: null when the next group may be written now, otherwise a promise
   * to wait for (a short slowdown delay, a stop until background work progresses, or a memtable
   * switch).
   */
  private makeRoomForWrite(): Promise<void> | null {
    const o = this.options;
    const l0 = this.versions.current.files[0]!.length;
    const l0Limits = o.autoCompaction;
    if (l0Limits && this.allowDelay && o.slowdownDelayMs > 0 && l0 >= o.l0SlowdownTrigger) {
      // Delay each write group a little rather than stopping all writes for seconds later; once
      // per group so a single write is never delayed twice.
      this.allowDelay = false;
      this.slowdowns++;
      const t0 = performance.now();
      this.maybeScheduleWork();
      return sleep(o.slowdownDelayMs).then(() => {
        this.slowdownMs += performance.now() - t0;
      });
    }
    if (this.mem.approximateBytes() < o.writeBufferBytes) return null;
    if (this.imms.length >= o.maxImmutableMemtables || (l0Limits && l0 >= o.l0StopTrigger)) {
      this.stops++;
      const t0 = performance.now();
      return this.waitForProgress().then(() => {
        this.stopMs += performance.now() - t0;
      });
    }
    return this.makeRoom(false);
  }

  /** Freezes the memtable and starts a fresh WAL (the old one is synced first). */
  private async makeRoom(force: boolean): Promise<void> {
    if (!force && this.mem.approximateBytes() < this.options.writeBufferBytes) return;
    if (this.mem.isEmpty()) return;
    while (this.imms.length >= this.options.maxImmutableMemtables) {
      this.stops++;
      const t0 = performance.now();
      await this.waitForProgress();
      this.stopMs += performance.now() - t0;
      if (this.bgError !== undefined) throw this.bgError;
    }
    const number = this.versions.newFileNumber();
    const path = joinPath(this.dir, logFileName(number));
    const file = await this.fs.createWritable(path);
    const old = this.log;
    // Everything in the old log becomes durable before the new log can acknowledge a sync
    // write, so a power loss always leaves a prefix of the acknowledged history.
    try {
      await old.syncAndClose();
    } catch (e) {
      await file.close().catch(() => {});
      throw e;
    }
    this.walBytesClosed += old.writer.size();
    this.walSyncsClosed += old.syncs;
    this.log = new ActiveLog(
      this.fs,
      this.dir,
      new LogWriter(file, { initialOffset: 0 }),
      number,
      (e) => this.setBgError(e),
    );
    this.imms.push(this.mem);
    this.mem = new Memtable(this.memPool);
    this.mem.logNumber = number;
    this.maybeScheduleWork();
  }

  private failQueue(err: unknown): void {
    const q = this.queue;
    for (let i = this.queueHead; i < q.length; i++) q[i]!.reject(err);
    this.queue = [];
    this.queueHead = 0;
    this.notifyIdle();
  }

  private writeErrorOf(e: unknown): unknown {
    if (isLsmError(e) && e.name === "ClosedError") return e;
    return new IoError("database is read-only after a background error; reopen it", undefined, {
      cause: e,
    });
  }

  private setBgError(e: unknown): void {
    if (e instanceof JobAborted) return;
    if (this.bgError === undefined) this.bgError = e;
    this.signalProgress();
  }

  // ---------------------------------------------------------------- reads

  /**
   * The value of `key`, or undefined. The value is a fresh Buffer (a Uint8Array) owned by the caller.
   * Resolves without leaving the event loop turn's synchronous work (no thread-pool hop).
   */
  get(key: Uint8Array, options?: ReadOptions): Promise<Buffer | undefined> {
    try {
      const value = this.getSync(key, options);
      if (this.backgroundStarved()) {
        return new Promise((resolve) => setImmediate(() => resolve(value)));
      }
      return Promise.resolve(value);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Synchronous get(): the same lookup without a promise. */
  getSync(key: Uint8Array, options?: ReadOptions): Buffer | undefined {
    this.checkOpen();
    assertKey(key);
    this.catchUp();
    let seq = this.versions.lastSequence;
    const snap = options?.snapshot;
    if (snap !== undefined) {
      if (!(snap instanceof Snapshot))
        throw new InvalidArgumentError("snapshot must come from db.snapshot()");
      snap.checkLive();
      seq = snap.sequence;
    }
    const out = this.lookup;
    let decided = this.mem.get(key, seq, out);
    for (let i = this.imms.length - 1; !decided && i >= 0; i--) {
      decided = this.imms[i]!.get(key, seq, out);
    }
    if (!decided) {
      const v = this.versions.current;
      decided = v.get(this.tables, key, this.lookupKey(key, seq), bloomHash(key), out);
    }
    if (!decided || out.state !== LookupState.Found) return undefined;
    const value = out.value!;
    out.value = undefined;
    return copyBytes(value);
  }

  /**
   * The internal key (key, seq, TYPE_FOR_SEEK) that table lookups seek to, in a scratch array
   * per key length: a lookup key is dropped when its lookup returns, so one allocation per
   * length serves every get.
   */
  private lookupKey(key: Uint8Array, seq: number): Uint8Array {
    const n = key.length;
    if (n >= this.lookupKeys.length) return makeInternalKey(key, seq, TYPE_FOR_SEEK);
    let k = this.lookupKeys[n];
    if (k === undefined) {
      k = new Uint8Array(n + TRAILER_BYTES);
      this.lookupKeys[n] = k;
    }
    for (let i = 0; i < n; i++) k[i] = key[i]!;
    encodeTrailer(k, n, seq, TYPE_FOR_SEEK);
    return k;
  }

  /**
   * Writes queued in this turn become visible to a read issued in the same turn (e.g. a put
   * that was not awaited), unless the write path is waiting for room.
   */
  private catchUp(): void {
    if (this.queueHead < this.queue.length && !this.waitingForRoom) this.drain();
  }

  /**
   * An ordered iterator over a key range as of now (or of `options.snapshot`). It sees a
   * consistent state: writes after its creation are invisible. Close it (or run it to the end)
   * so the files it reads can be deleted.
   */
  iterator(options: IteratorOptions = {}): DbIterator {
    this.checkOpen();
    this.catchUp();
    let seq = this.versions.lastSequence;
    const snap = options.snapshot;
    if (snap !== undefined) {
      if (!(snap instanceof Snapshot))
        throw new InvalidArgumentError("snapshot must come from db.snapshot()");
      snap.checkLive();
      seq = snap.sequence;
    }
    const version = this.versions.current;
    // Newest first; each is referenced until the iterator is closed or collected.
    const mems = [this.mem, ...this.imms.slice().reverse()];
    const children: InternalIterator[] = mems.map((m) => m.iterator());
    const fillCache = options.fillCache ?? true;
    const inner = new SequenceIterator(
      new MergingIterator(compareInternalKeys, [
        ...children,
        ...version.iterators(this.tables, fillCache),
      ]),
      seq,
    );
    const rec: IteratorRecord = {
      inner,
      pins: { version, mems, slot: -1 },
      dbClosed: false,
      onClose: () => this.iteratorReleased(rec),
      checkDbOpen: () => this.checkOpen(),
    };
    // The finalizer watches a token only the iterator holds, and holds only the small pins
    // record: V8's young-generation collections keep a registration's target and held value
    // alive, so registering the iterator (or anything referencing it or its inner iterators)
    // made every iterator outlive its first collection and be promoted: several kilobytes of
    // old-generation garbage per short range scan, which grew the heap by tens of megabytes.
    const token = {};
    let it: DbIterator;
    try {
      it = new DbIterator(inner, options, rec, token);
    } catch (e) {
      inner.close();
      throw e;
    }
    this.versions.ref(version);
    for (const m of mems) m.ref();
    const slot = this.freeIteratorSlots.pop() ?? this.iteratorSlots.length;
    rec.pins.slot = slot;
    this.iteratorSlots[slot] = rec;
    this.openIterators++;
    this.finalizer.register(token, rec.pins, rec.pins);
    return it;
  }

  /** An iterator was closed (or collected): release the version and memtables it pinned. */
  private iteratorReleased(rec: IteratorRecord): void {
    const slot = rec.pins.slot;
    if (this.iteratorSlots[slot] !== rec) return;
    this.iteratorSlots[slot] = undefined;
    this.freeIteratorSlots.push(slot);
    this.openIterators--;
    this.finalizer.unregister(rec.pins);
    this.releaseVersion(rec.pins.version);
    for (const m of rec.pins.mems) m.unref();
  }

  private releaseVersion(version: Version): void {
    if (this.versions.unref(version) && this.state === "open") this.scheduleDeleteObsolete();
  }

  /** A consistent point-in-time view for get() and iterator(); release() it when done. */
  snapshot(): Snapshot {
    this.checkOpen();
    this.catchUp();
    return this.snapshots.create(this.versions.lastSequence);
  }

  // ---------------------------------------------------------------- flush / compaction

  /** Writes the memtable (with everything written before this call) to a table. */
  async flush(): Promise<void> {
    this.checkOpen();
    await this.enqueue(null, false, 0);
    // Wait until every memtable frozen so far is in a table.
    const target = this.imms[this.imms.length - 1];
    if (target === undefined) return;
    this.maybeScheduleWork();
    while (this.imms.includes(target)) {
      if (this.bgError !== undefined) throw this.writeErrorOf(this.bgError);
      if (this.state === "closed") throw new ClosedError("database closed during flush()");
      await this.waitForProgress();
    }
  }

  /**
   * Flushes, then compacts every level overlapping [start, end] (user keys; omit for all) down
   * to the deepest level holding data there, and finally rewrites that level's files in the
   * range in place, so that overwritten values and tombstones no snapshot needs are dropped
   * even where nothing above overlapped them.
   */
  async compactRange(start?: Uint8Array, end?: Uint8Array): Promise<void> {
    this.checkOpen();
    if (start !== undefined) assertKey(start, "start");
    if (end !== undefined) assertKey(end, "end");
    await this.flush();
    const v = this.versions.current;
    let maxLevel = 0;
    for (let level = 0; level < v.numLevels; level++) {
      if (v.overlappingInputs(level, start, end).length > 0) maxLevel = level;
    }
    // L0 always moves down (its files overlap each other, so it cannot be rewritten in place).
    const bottom = Math.max(maxLevel, 1);
    const steps: [number, number][] = [];
    for (let level = 0; level < bottom; level++) steps.push([level, level + 1]);
    steps.push([bottom, bottom]);
    for (const [level, outputLevel] of steps) {
      if (this.bgError !== undefined) throw this.writeErrorOf(this.bgError);
      this.checkOpen();
      await new Promise<void>((resolve, reject) => {
        this.manualQueue.push({ level, outputLevel, begin: start, end, resolve, reject });
        this.maybeScheduleWork();
      });
    }
  }

  /**
   * Background work runs as two independent async loops: flushes (always on this thread, in
   * slices) and compactions (merged on the worker thread when there is one, else here in
   * slices). Keeping them apart means a long compaction never delays a flush, so writes do not
   * stop behind it. Manifest edits are serialised by the version set.
   */
  private maybeScheduleWork(): void {
    if (this.state !== "open" || this.bgError !== undefined) return;
    if (!this.flushRunning && this.imms.length > 0) {
      this.flushRunning = true;
      this.flushDone = this.flushLoop();
    }
    if (!this.compactionLoopRunning) {
      const auto = this.options.autoCompaction && this.versions.current.compactionScore >= 1;
      if (this.manualQueue.length > 0 || auto) {
        this.compactionLoopRunning = true;
        this.compactionDone = this.compactionLoop();
      }
    }
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.imms.length > 0 && this.state === "open" && this.bgError === undefined) {
        const mem = this.imms[0]!;
        const next = this.imms[1]?.logNumber ?? this.mem.logNumber;
        await flushMemtable(this.ctx, mem, next, this.reservePushDown);
        this.imms.shift();
        // Iterators still reading it hold their own references.
        mem.unref();
        this.signalProgress();
        this.scheduleDeleteObsolete();
        this.maybeScheduleWork();
      }
    } catch (e) {
      this.setBgError(e);
    } finally {
      this.flushRunning = false;
      this.signalProgress();
    }
    this.maybeScheduleWork();
  }

  /**
   * A flush may place its table below L0 only while no compaction runs (a running one's outputs
   * are not visible yet), and until its edit is applied no compaction may be picked (it would
   * be chosen from a version without the table and could write over its range).
   */
  private readonly reservePushDown = (): (() => void) | undefined => {
    if (this.compactionRunning || this.pushDownGate !== null) return undefined;
    let open!: () => void;
    this.pushDownGate = new Promise<void>((resolve) => {
      open = resolve;
    });
    return () => {
      this.pushDownGate = null;
      open();
    };
  };

  private async compactionLoop(): Promise<void> {
    try {
      for (;;) {
        while (this.pushDownGate !== null) await this.pushDownGate;
        if (this.state !== "open" || this.bgError !== undefined) break;
        if (this.manualQueue.length > 0) {
          const m = this.manualQueue[0]!;
          try {
            const c = manualCompaction(this.versions, m.level, m.outputLevel, m.begin, m.end);
            if (c !== undefined) await this.compact(c);
            this.manualQueue.shift();
            m.resolve();
          } catch (e) {
            this.manualQueue.shift();
            m.reject(e);
            throw e;
          }
        } else if (this.options.autoCompaction && this.versions.current.compactionScore >= 1) {
          const c = pickCompaction(this.versions);
          if (c === undefined) break;
          await this.compact(c);
        } else {
          break;
        }
        this.signalProgress();
        this.scheduleDeleteObsolete();
      }
    } catch (e) {
      this.setBgError(e);
    } finally {
      this.compactionLoopRunning = false;
      this.signalProgress();
    }
    this.maybeScheduleWork();
    if (this.bgError !== undefined) {
      for (const m of this.manualQueue.splice(0)) m.reject(this.writeErrorOf(this.bgError));
    }
  }

  private async compact(c: Compaction): Promise<void> {
    this.compactionRunning = true;
    try {
      if (isTrivialMove(c, 10 * this.options.targetFileSizeBytes)) {
        await runTrivialMove(this.ctx, c);
      } else if (this.worker !== undefined) {
        await this.compactOnWorker(c);
      } else {
        await runCompaction(this.ctx, c);
      }
    } finally {
      this.compactionRunning = false;
      this.versions.unref(c.version);
    }
  }

  /**
   * Merges on the worker thread, then installs here. The outputs' file numbers are reserved
   * up front (enough for the inputs' bytes plus a cut per grandparent) and kept from
   * obsolete-file deletion until the edit is in.
   */
  private async compactOnWorker(c: Compaction): Promise<void> {
    let bytes = 0;
    for (const f of c.inputs) bytes += f.size;
    for (const f of c.nextInputs) bytes += f.size;
    const count = Math.ceil(bytes / this.options.targetFileSizeBytes) + c.grandparents.length + 2;
    const numbers: number[] = [];
    for (let i = 0; i < count; i++) {
      const n = this.versions.newFileNumber();
      numbers.push(n);
      this.pendingOutputs.add(n);
    }
    try {
      const result = await this.worker!.compact({
        spec: mergeSpecOf(c, this.ctx.smallestSnapshot()),
        numbers,
        table: tableSettingsOf(this.options),
      });
      try {
        await installCompaction(this.ctx, c, result);
      } catch (e) {
        for (const f of result.outputs) this.tables.evict(f.number);
        throw e;
      }
      this.jobStats.workerCompactions++;
    } finally {
      for (const n of numbers) this.pendingOutputs.delete(n);
    }
  }

  private waitForProgress(): Promise<void> {
    this.maybeScheduleWork();
    return new Promise<void>((resolve) => {
      this.progressWaiters.push(resolve);
    });
  }

  private signalProgress(): void {
    const w = this.progressWaiters;
    if (w.length === 0) return;
    this.progressWaiters = [];
    for (const r of w) r();
  }

  // ---------------------------------------------------------------- obsolete files

  private scheduleDeleteObsolete(): void {
    if (this.deleting !== null) {
      this.deleteAgain = true;
      return;
    }
    this.deleting = (async () => {
      do {
        this.deleteAgain = false;
        await this.deleteObsoleteFiles().catch(() => {});
      } while (this.deleteAgain && this.state === "open");
      this.deleting = null;
    })();
  }

  /**
   * Removes tables no live version lists (and no running job is writing), logs below the log
   * number, and old manifests. Skipped after a background error: then it is unknown whether
   * the last manifest edit reached the disk.
   */
  private async deleteObsoleteFiles(): Promise<void> {
    if (this.bgError !== undefined) return;
    const names = await this.fs.list(this.dir);
    const live = this.versions.liveFiles();
    const logNumber = this.versions.logNumber;
    const manifestNumber = this.versions.manifestNumber;
    for (const name of names) {
      const p = parseFileName(name);
      if (p === undefined) continue;
      let remove = false;
      if (p.type === FileType.Log) remove = p.number < logNumber;
      else if (p.type === FileType.Table) {
        remove = !live.has(p.number) && !this.pendingOutputs.has(p.number);
      } else if (p.type === FileType.Manifest) remove = p.number < manifestNumber;
      if (!remove) continue;
      if (this.bgError !== undefined) return;
      if (p.type === FileType.Table) {
        // Re-check now: during the awaits above a running job may have installed this file
        // (it leaves pendingOutputs only once a version lists it).
        if (this.pendingOutputs.has(p.number) || this.versions.liveFiles().has(p.number)) continue;
        this.tables.evict(p.number);
      } else if (p.type === FileType.Log && p.number >= this.versions.logNumber) {
        continue;
      }
      await this.fs.remove(joinPath(this.dir, name));
    }
  }

  // ---------------------------------------------------------------- close / stats

  private checkOpen(): void {
    if (!this.accepting || this.state !== "open") throw new ClosedError("database is closed");
  }

  /**
   * Finishes queued writes, stops background work (a running flush or compaction stops at its
   * next slice; its work is redone after reopening), syncs the WAL and releases the lock.
   * Iterators and snapshots become unusable. Idempotent.
   */
  close(): Promise<void> {
    if (this.closePromise === undefined) this.closePromise = this.doClose();
    return this.closePromise;
  }

  private async doClose(): Promise<void> {
    // Writes queued before close() still complete (background work keeps running for them);
    // later ones fail with ClosedError.
    this.accepting = false;
    await this.writesIdle();
    this.state = "closing";
    this.failQueue(new ClosedError("database closed"));
    this.signalProgress();
    // A merge on the worker is cut short (its unreferenced outputs are removed at next open).
    await this.worker?.terminate();
    await this.flushDone.catch(() => {});
    await this.compactionDone.catch(() => {});
    while (this.deleting !== null) await this.deleting;
    let firstError: unknown;
    if (this.bgError === undefined) {
      await this.log.syncAndClose().catch((e: unknown) => {
        firstError ??= e;
      });
    } else {
      await this.log.abandon();
    }
    for (const rec of this.iteratorSlots) {
      if (rec === undefined) continue;
      rec.dbClosed = true;
      this.finalizer.unregister(rec.pins);
      rec.inner.close();
    }
    this.iteratorSlots.length = 0;
    this.freeIteratorSlots.length = 0;
    this.openIterators = 0;
    this.snapshots.releaseAll();
    for (const m of this.manualQueue.splice(0)) m.reject(new ClosedError("database closed"));
    await this.versions.close().catch((e: unknown) => {
      firstError ??= e;
    });
    await this.tables.closeAll();
    this.blockCache?.clear();
    await this.lock.release().catch((e: unknown) => {
      firstError ??= e;
    });
    this.state = "closed";
    this.signalProgress();
    if (firstError !== undefined) throw firstError;
  }

  /** Counters and sizes (cheap; no I/O). */
  stats(): DbStats {
    const v = this.versions.current;
    const levels: LevelStats[] = [];
    let tableBytes = 0;
    let pending = 0;
    for (let level = 0; level < v.numLevels; level++) {
      const bytes = v.levelBytes(level);
      tableBytes += bytes;
      const score =
        level === 0
          ? v.files[0]!.length / this.options.l0CompactionTrigger
          : level === v.numLevels - 1
            ? 0
            : bytes / this.versions.maxBytesForLevel(level);
      levels.push({ level, files: v.files[level]!.length, bytes, score });
      if (level === 0) {
        if (v.files[0]!.length >= this.options.l0CompactionTrigger) pending += bytes;
      } else if (level < v.numLevels - 1) {
        pending += Math.max(0, bytes - this.versions.maxBytesForLevel(level));
      }
    }
    const wal = this.walBytesClosed + this.log.writer.size();
    const s = this.jobStats;
    const written = wal + s.flushBytesWritten + s.compactionBytesWritten;
    const cache = this.blockCache?.stats();
    let immBytes = 0;
    for (const m of this.imms) immBytes += m.approximateBytes();
    return {
      levels,
      tableBytes,
      memtable: {
        bytes: this.mem.approximateBytes(),
        entries: this.mem.count(),
        immutable: this.imms.length,
        immutableBytes: immBytes,
      },
      blockCache: {
        hits: cache?.hits ?? 0,
        misses: cache?.misses ?? 0,
        bytes: cache?.bytes ?? 0,
        capacityBytes: cache?.capacityBytes ?? 0,
      },
      tableCache: { open: this.tables.size, misses: this.tables.misses },
      writeAmplification: this.userBytes === 0 ? 0 : written / this.userBytes,
      bytes: {
        user: this.userBytes,
        wal,
        flushWritten: s.flushBytesWritten,
        compactionRead: s.compactionBytesRead,
        compactionWritten: s.compactionBytesWritten,
      },
      pendingCompactionBytes: pending,
      writeStall: {
        slowdowns: this.slowdowns,
        slowdownMs: this.slowdownMs,
        stops: this.stops,
        stopMs: this.stopMs,
      },
      flushes: s.flushes,
      compactions: s.compactions,
      trivialMoves: s.trivialMoves,
      workerCompactions: s.workerCompactions,
      entriesDroppedByCompaction: s.compactionEntriesDropped,
      walSyncs: this.walSyncsClosed + this.log.syncs,
      sequence: this.versions.lastSequence,
      liveSnapshots: this.snapshots.size,
      openIterators: this.openIterators,
      backgroundError:
        this.bgError === undefined
          ? undefined
          : this.bgError instanceof Error
            ? this.bgError.message
            : String(this.bgError),
    };
  }

  /** @internal for tests: the level each table is in. */
  debugLevels(): number[][] {
    return this.versions.current.files.map((l) => l.map((f) => f.number));
  }
}

// ---------------------------------------------------------------- recovery

interface Recovered {
  log: ActiveLog;
}

/**
 * Brings the directory to a consistent state: read CURRENT and the manifest (or start empty),
 * remove leftover temporary files, replay the WAL files the manifest does not cover into
 * memtables, write those to level-0 tables, and record everything in a fresh manifest whose log
 * number points at a new, empty WAL. A crash at any point of this leaves the previous state.
 */
async function recover(
  dir: string,
  opts: ResolvedDbOptions,
  fs: FileSystem,
  versions: VersionSet,
  tables: TableCache,
): Promise<Recovered> {
  const exists = await fs.exists(joinPath(dir, CURRENT_FILE));
  if (exists) {
    if (opts.errorIfExists) {
      throw new InvalidArgumentError(`a database already exists in ${dir} (errorIfExists is true)`);
    }
    await versions.recover();
  } else if (!opts.createIfMissing) {
    throw new InvalidArgumentError(`no database in ${dir} (createIfMissing is false)`);
  }

  const names = await fs.list(dir);
  const logs: number[] = [];
  const present = new Set<number>();
  for (const name of names) {
    const p = parseFileName(name);
    if (p === undefined) continue;
    if (p.type === FileType.Temp) {
      await fs.remove(joinPath(dir, name));
    } else if (p.type === FileType.Log) {
      versions.markFileNumberUsed(p.number);
      if (p.number >= versions.logNumber) logs.push(p.number);
    } else if (p.type === FileType.Table) {
      versions.markFileNumberUsed(p.number);
      present.add(p.number);
    } else if (p.type === FileType.Manifest) {
      versions.markFileNumberUsed(p.number);
    }
  }
  const current = versions.current;
  for (let level = 0; level < current.numLevels; level++) {
    for (const f of current.files[level]!) {
      if (!present.has(f.number)) {
        throw new CorruptionError(
          joinPath(dir, tableFileName(f.number)),
          0,
          `table listed at level ${level} by the manifest is missing`,
        );
      }
    }
  }

  // Replay WALs oldest first into memtables of the configured size.
  logs.sort((a, b) => a - b);
  const mems: Memtable[] = [];
  let mem = new Memtable();
  let maxSeq = versions.lastSequence;
  for (const number of logs) {
    const path = joinPath(dir, logFileName(number));
    const result = await readLogWithStatus(fs, path);
    const bad = result.corruptions[0];
    if (bad !== undefined) {
      throw new CorruptionError(path, bad.offset, `WAL: ${bad.reason}`);
    }
    for (const rec of result.records) {
      forEachBatchRecord(
        rec,
        (seq, type, key, value) => {
          mem.add(seq, type, key, value);
          if (seq > maxSeq) maxSeq = seq;
        },
        path,
      );
      if (mem.approximateBytes() >= opts.writeBufferBytes) {
        mems.push(mem);
        mem = new Memtable();
      }
    }
  }
  if (!mem.isEmpty()) mems.push(mem);
  versions.lastSequence = maxSeq;

  // Write the recovered data to L0 tables and switch to a fresh WAL in one manifest edit.
  const pending = new Set<number>();
  const stats = emptyJobStats();
  const ctx: JobContext = {
    fs,
    dir,
    options: opts,
    versions,
    tables,
    pendingOutputs: pending,
    stats,
    smallestSnapshot: () => versions.lastSequence,
    isClosing: () => false,
    table: tableSettingsOf(opts),
    newFileNumber: () => versions.newFileNumber(),
    canAllocate: () => true,
    iterator: (f) => tables.iterator(f, false, true),
  };
  const edit = new VersionEdit();
  const written: FileMeta[] = [];
  for (const m of mems) {
    const meta = await writeLevel0Table(ctx, m);
    written.push(meta);
    edit.addFile(0, meta);
  }
  const logNumber = versions.newFileNumber();
  const logPath = joinPath(dir, logFileName(logNumber));
  const file = await fs.createWritable(logPath);
  const log = new ActiveLog(
    fs,
    dir,
    new LogWriter(file, { initialOffset: 0 }),
    logNumber,
    () => {},
  );
  try {
    await fs.syncDir(dir);
    edit.logNumber = logNumber;
    // A fresh manifest at every open keeps replay short and exercises the CURRENT swap.
    await versions.rollManifest();
    await versions.logAndApply(edit);
  } catch (e) {
    await log.abandon();
    throw e;
  }
  // Pre-open readers (up to the table cache's size) so the first reads need no open.
  const v = versions.current;
  let budget = opts.maxOpenFiles;
  for (let level = 0; level < v.numLevels && budget > 0; level++) {
    for (const f of v.files[level]!) {
      if (budget-- <= 0) break;
      await tables.open(f);
    }
  }
  void written;
  return { log };
}
