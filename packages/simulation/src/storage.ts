import type { SeededRandom } from "@distkv/gossip/testing";
import {
  type Db,
  FaultInjectingFileSystem,
  type FileHandle,
  type FileLock,
  type FileSystem,
  MemoryFileSystem,
  open,
} from "@distkv/lsm";
import type { ConflictPolicy, Hint, HintPutResult, HintStore, ReplicaStore } from "@distkv/quorum";
import { type Codec, resolveLww, type SiblingSet, sync } from "@distkv/vclock";
import { StorageFailedError } from "./errors.js";
import type { EventOwner, Scheduler } from "./scheduler.js";

/** Where the database lives inside a node's in-memory filesystem. */
const DB_DIR = "/data";

// Key spaces inside the node's database: 'd' + user key, 'h' + target id + 0x00 + user key.
const DATA_PREFIX = 0x64;
const HINT_PREFIX = 0x68;

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** Simulated disk latencies, uniform in [min, max] ms. */
export interface DiskLatency {
  /** Each fsync (of a file or a directory). */
  readonly syncMs: readonly [number, number];
  /** Each read of replica data (a lookup that goes to disk). */
  readonly readMs: readonly [number, number];
}

/**
 * A node's disk across its crashes: an @distkv/lsm MemoryFileSystem that keeps synced and
 * unsynced state apart. `powerLoss()` replaces it with what a power cut leaves (unsynced bytes
 * dropped or torn, unsynced directory operations partly lost), chosen by the run's seeded
 * random stream. The filesystem a process gets delays each fsync by a simulated latency owned
 * by that process (a crash during the latency means the sync never happened), and can fail
 * fsyncs with I/O errors (an @distkv/lsm FaultInjectingFileSystem, `failSync`).
 */
export class SimDisk {
  private fs = new MemoryFileSystem();
  /** The running process's view of the disk, through which I/O errors are injected. */
  private faulty: FaultInjectingFileSystem | undefined;
  private losses = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly random: SeededRandom,
    private readonly latency: DiskLatency,
  ) {}

  /** Power cuts this disk went through. */
  get powerLosses(): number {
    return this.losses;
  }

  /** I/O errors injected (each failed one fsync of the write-ahead log). */
  get ioErrors(): number {
    return this.faulty?.injected ?? 0;
  }

  /**
   * Makes the `nth` next fsync of the write-ahead log fail with an I/O error (the controller
   * reported a failed write-back). The database then refuses writes until it is reopened.
   */
  failSync(nth: number): void {
    this.faulty?.failOn({ op: "sync", nth, pathIncludes: ".log" });
  }

  /** A power cut: from now on the disk holds only what was durable (plus torn leftovers). */
  powerLoss(): void {
    this.losses++;
    this.faulty = undefined;
    const rng = this.random;
    this.fs = this.fs.crash({
      rng: () => rng.next(),
      tearLastPage: true,
      keepSomeUnsyncedDirOps: true,
    });
  }

  /** The filesystem as process `owner` sees it (fsyncs take simulated time). */
  fileSystemFor(owner: EventOwner): FileSystem {
    this.faulty = new FaultInjectingFileSystem(this.fs);
    return new LatencyFileSystem(this.faulty, () =>
      this.delay(owner, this.latency.syncMs, "disk.sync"),
    );
  }

  /**
   * A wait of one replica read's latency for process `owner` (a read that misses the page cache),
   * or undefined when reads take no time.
   */
  readDelayFor(owner: EventOwner): (() => Promise<void>) | undefined {
    const [min, max] = this.latency.readMs;
    if (max === 0) return undefined;
    return () => this.delay(owner, [min, max], "disk.read");
  }

  private delay(owner: EventOwner, [min, max]: readonly [number, number], kind: string) {
    return new Promise<void>((resolve) => {
      this.scheduler.schedule(min + this.random.int(max - min + 1), owner, kind, resolve);
    });
  }
}

class LatencyFileHandle implements FileHandle {
  constructor(
    private readonly inner: FileHandle,
    private readonly delay: () => Promise<void>,
  ) {}
  get path(): string {
    return this.inner.path;
  }
  readSync(buf: Uint8Array, bufOffset: number, length: number, position: number): number {
    return this.inner.readSync(buf, bufOffset, length, position);
  }
  read(buf: Uint8Array, bufOffset: number, length: number, position: number): Promise<number> {
    return this.inner.read(buf, bufOffset, length, position);
  }
  appendSync(data: Uint8Array): void {
    this.inner.appendSync(data);
  }
  async sync(): Promise<void> {
    // The data becomes durable only when the (simulated) fsync completes.
    await this.delay();
    await this.inner.sync();
  }
  syncSync(): void {
    this.inner.syncSync();
  }
  size(): number {
    return this.inner.size();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Passes everything to `inner`, delaying fsyncs (of files and directories). */
class LatencyFileSystem implements FileSystem {
  constructor(
    private readonly inner: FileSystem,
    private readonly delay: () => Promise<void>,
  ) {}
  async openReadable(path: string): Promise<FileHandle> {
    return new LatencyFileHandle(await this.inner.openReadable(path), this.delay);
  }
  openReadableSync(path: string): FileHandle {
    return new LatencyFileHandle(this.inner.openReadableSync(path), this.delay);
  }
  async createWritable(path: string): Promise<FileHandle> {
    return new LatencyFileHandle(await this.inner.createWritable(path), this.delay);
  }
  async openAppendable(path: string): Promise<FileHandle> {
    return new LatencyFileHandle(await this.inner.openAppendable(path), this.delay);
  }
  readFile(path: string): Promise<Uint8Array> {
    return this.inner.readFile(path);
  }
  async writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    await this.delay();
    await this.inner.writeFileAtomic(path, data);
  }
  rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }
  remove(path: string): Promise<void> {
    return this.inner.remove(path);
  }
  exists(path: string): Promise<boolean> {
    return this.inner.exists(path);
  }
  list(dir: string): Promise<string[]> {
    return this.inner.list(dir);
  }
  mkdir(dir: string): Promise<void> {
    return this.inner.mkdir(dir);
  }
  async syncDir(dir: string): Promise<void> {
    await this.delay();
    await this.inner.syncDir(dir);
  }
  lock(path: string): Promise<FileLock> {
    return this.inner.lock(path);
  }
}

function dataKey(key: Uint8Array): Uint8Array {
  const k = new Uint8Array(key.length + 1);
  k[0] = DATA_PREFIX;
  k.set(key, 1);
  return k;
}

function hintPrefix(target: string): Uint8Array {
  const id = utf8.encode(target);
  const k = new Uint8Array(id.length + 2);
  k[0] = HINT_PREFIX;
  k.set(id, 1);
  return k; // the last byte stays 0: the separator
}

function hintKey(target: string, key: Uint8Array): Uint8Array {
  const prefix = hintPrefix(target);
  const k = new Uint8Array(prefix.length + key.length);
  k.set(prefix, 0);
  k.set(key, prefix.length);
  return k;
}

function lockName(k: Uint8Array): string {
  return Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString("latin1");
}

/** Serialises async read-modify-write sections per key within one process. */
class Mutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(name);
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = previous === undefined ? mine : previous.then(() => mine);
    this.tails.set(name, tail);
    try {
      if (previous !== undefined) await previous;
      return await fn();
    } finally {
      release();
      if (this.tails.get(name) === tail) this.tails.delete(name);
    }
  }
}

/** Options of one node's storage. */
export interface NodeStorageOptions {
  /** The conflict policy of the cluster: `lww` stores one version per key. */
  readonly conflictPolicy: ConflictPolicy;
  /**
   * Sync every write before acknowledging it (as the contract of ReplicaStore and HintStore
   * requires). `false` acknowledges writes that a power loss can take away: for showing that
   * the checkers notice.
   */
  readonly syncWrites: boolean;
  readonly codec: Codec;
  /** Waits out a replica read's latency; undefined: reads take no simulated time. */
  readonly readDelay?: (() => Promise<void>) | undefined;
}

/**
 * One node's replica data and hints in one @distkv/lsm database, the way a server keeps them:
 * every write merges with what is stored (vclock `sync`) under a per-key lock and is synced
 * before it is acknowledged, so a power loss never takes an acknowledged write. Hint versions
 * live in memory (a restarted node gives every stored hint a fresh one).
 *
 * Reads return durable data only. @distkv/lsm makes a write visible as soon as it is in the
 * write-ahead log, before its fsync completes, and keeps it visible when the fsync fails. A
 * replica that served such a version could hand it to a coordinator (a read reply, then read
 * repair) and lose it in a power cut: the node would then reuse the version's dot for another
 * value, and replicas would hold two versions under one dot forever (found by this simulation;
 * see the README). So a read of a key waits for the merge of that key in progress, and after a
 * failed write the storage fails every call (fail-stop) until the node is restarted: it could
 * neither vouch for what it shows nor take the writes that would keep it up to date, so a
 * replica that went on serving reads would go stale while answering first.
 *
 * The database is tuned so that nothing runs in the background (no memtable ever fills, no
 * automatic compaction): background work on the event loop yields by real time, which would
 * make runs depend on the machine. Each restart replays the WAL into a level-0 table.
 */
export class LsmNodeStorage implements ReplicaStore, HintStore {
  private readonly lock = new Mutex();
  private hintCount = 0;
  private hintVersionSeq = 0;
  private readonly hintVersions = new Map<string, number>();
  /** The first write error: from then on every call fails. */
  private failure: unknown;

  private constructor(
    private readonly db: Db,
    private readonly options: NodeStorageOptions,
  ) {}

  /** Opens (recovering after a crash) the database on `fs`. */
  static async open(fs: FileSystem, options: NodeStorageOptions): Promise<LsmNodeStorage> {
    const db = await open(DB_DIR, {
      fs,
      writeBufferBytes: 256 * 1024 * 1024,
      autoCompaction: false,
      backgroundSliceMs: 1000,
      blockCacheBytes: 0,
    });
    const storage = new LsmNodeStorage(db, options);
    let n = 0;
    for (const _ of db.iterator({ prefix: Uint8Array.of(HINT_PREFIX) })) n++;
    storage.hintCount = n;
    return storage;
  }

  // ---------------------------------------------------------------- ReplicaStore

  async read(key: Uint8Array): Promise<SiblingSet<Uint8Array> | undefined> {
    if (this.options.readDelay !== undefined) await this.options.readDelay();
    const k = dataKey(key);
    // Under the key's lock: a merge in progress may be visible in the database before it is
    // durable.
    return this.lock.run(lockName(k), async () => {
      this.checkHealthy();
      const bytes = this.db.getSync(k);
      return bytes === undefined ? undefined : this.options.codec.decodeSiblingSet(bytes);
    });
  }

  merge(key: Uint8Array, incoming: SiblingSet<Uint8Array>): Promise<SiblingSet<Uint8Array>> {
    const k = dataKey(key);
    return this.lock.run(lockName(k), async () => {
      this.checkHealthy();
      const current = this.db.getSync(k);
      let merged =
        current === undefined
          ? incoming
          : sync(this.options.codec.decodeSiblingSet(current), incoming);
      if (this.options.conflictPolicy === "lww") merged = resolveLww(merged);
      const encoded = this.options.codec.encodeSiblingSet(merged);
      if (current === undefined || !Buffer.from(current).equals(encoded)) {
        await this.write(this.db.put(k, encoded, { sync: this.options.syncWrites }));
      }
      return merged;
    });
  }

  // ---------------------------------------------------------------- HintStore

  get size(): number {
    return this.hintCount;
  }

  put(
    targetNodeId: string,
    key: Uint8Array,
    set: SiblingSet<Uint8Array>,
    maxHints: number,
    nowMs: number,
  ): Promise<HintPutResult> {
    const k = hintKey(targetNodeId, key);
    const name = lockName(k);
    return this.lock.run(name, async () => {
      this.checkHealthy();
      const bytes = this.db.getSync(k);
      if (bytes === undefined && this.hintCount >= maxHints) return "full";
      const existing = bytes === undefined ? undefined : this.decodeHint(bytes);
      const merged = existing === undefined ? set : sync(existing.set, set);
      await this.write(
        this.db.put(k, this.encodeHint(existing?.createdMs ?? nowMs, merged), {
          sync: this.options.syncWrites,
        }),
      );
      this.hintVersions.set(name, ++this.hintVersionSeq);
      if (existing !== undefined) return "merged";
      this.hintCount++;
      return "created";
    });
  }

  async targets(): Promise<string[]> {
    this.checkHealthy();
    const out = new Set<string>();
    for (const [k] of this.db.iterator({ prefix: Uint8Array.of(HINT_PREFIX) })) {
      out.add(utf8d.decode(k.subarray(1, k.indexOf(0, 1))));
    }
    return [...out];
  }

  async list(targetNodeId: string, limit: number): Promise<Hint[]> {
    this.checkHealthy();
    const prefix = hintPrefix(targetNodeId);
    const out: Hint[] = [];
    for (const [k, v] of this.db.iterator({ prefix, limit })) {
      const { createdMs, set } = this.decodeHint(v);
      out.push({
        targetNodeId,
        key: k.subarray(prefix.length),
        set,
        version: this.hintVersion(lockName(k)),
        createdMs,
      });
    }
    return out;
  }

  async expire(cutoffMs: number): Promise<number> {
    this.checkHealthy();
    const old: Uint8Array[] = [];
    for (const [k, v] of this.db.iterator({ prefix: Uint8Array.of(HINT_PREFIX) })) {
      if (this.decodeHint(v).createdMs < cutoffMs) old.push(k);
    }
    let n = 0;
    for (const k of old) {
      const name = lockName(k);
      const deleted = await this.lock.run(name, async () => {
        this.checkHealthy();
        const v = this.db.getSync(k);
        if (v === undefined || this.decodeHint(v).createdMs >= cutoffMs) return false;
        await this.write(this.db.delete(k, { sync: this.options.syncWrites }));
        this.hintVersions.delete(name);
        this.hintCount--;
        return true;
      });
      if (deleted) n++;
    }
    return n;
  }

  /** A hint's value, as the server stores it: u8 1, f64 big-endian createdMs, the sibling set. */
  private encodeHint(createdMs: number, set: SiblingSet<Uint8Array>): Uint8Array {
    const body = this.options.codec.encodeSiblingSet(set);
    const out = new Uint8Array(9 + body.length);
    out[0] = 1;
    new DataView(out.buffer).setFloat64(1, createdMs);
    out.set(body, 9);
    return out;
  }

  private decodeHint(bytes: Uint8Array): { createdMs: number; set: SiblingSet<Uint8Array> } {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return {
      createdMs: view.getFloat64(1),
      set: this.options.codec.decodeSiblingSet(bytes.subarray(9)),
    };
  }

  delete(targetNodeId: string, key: Uint8Array, version: number): Promise<boolean> {
    const k = hintKey(targetNodeId, key);
    const name = lockName(k);
    return this.lock.run(name, async () => {
      this.checkHealthy();
      if (this.hintVersion(name) !== version) return false;
      if (this.db.getSync(k) === undefined) return false;
      await this.write(this.db.delete(k, { sync: this.options.syncWrites }));
      this.hintVersions.delete(name);
      this.hintCount--;
      return true;
    });
  }

  /** Whether a write failed: the storage then fails every call until the node restarts. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  private checkHealthy(): void {
    if (this.failure !== undefined) {
      throw new StorageFailedError(
        "storage failed after a write error; the node must be restarted",
        { cause: this.failure },
      );
    }
  }

  /** Awaits a database write, turning the storage fail-stop if it fails. */
  private async write(op: Promise<void>): Promise<void> {
    try {
      await op;
    } catch (e) {
      this.failure ??= e;
      throw e;
    }
  }

  private hintVersion(name: string): number {
    let v = this.hintVersions.get(name);
    if (v === undefined) {
      v = ++this.hintVersionSeq;
      this.hintVersions.set(name, v);
    }
    return v;
  }

  // ---------------------------------------------------------------- inspection

  /** Every stored (user key as UTF-8, sibling set) of the replica data, in key order. */
  dataEntries(): [string, SiblingSet<Uint8Array>][] {
    const out: [string, SiblingSet<Uint8Array>][] = [];
    for (const [k, v] of this.db.iterator({ prefix: Uint8Array.of(DATA_PREFIX) })) {
      out.push([utf8d.decode(k.subarray(1)), this.options.codec.decodeSiblingSet(v)]);
    }
    return out;
  }

  /** Closes the database (a clean shutdown; a crash just drops the object). */
  close(): Promise<void> {
    return this.db.close();
  }
}
