import { type Db, open } from "@distkv/lsm";
import type { Hint, HintPutResult, HintStore, ReplicaStore } from "@distkv/quorum";
import {
  decodeSiblingSet,
  encodeSiblingSet,
  resolveLww,
  type SiblingSet,
  sync,
} from "@distkv/vclock";
import { KeyLock } from "./key-lock.js";

/** A page of `scanData`: entries in key order, and where the scan stopped. */
export interface DataPage {
  readonly entries: { key: Uint8Array; siblings: Uint8Array }[];
  /** The last key scanned, matching or not; undefined when nothing was scanned. */
  readonly lastKey: Uint8Array | undefined;
  /** True when the scan reached the end of the data. */
  readonly done: boolean;
  readonly scanned: number;
}

/** A stored object: the replica's sibling set of one key. */
export type StoredSet = SiblingSet<Uint8Array>;

// Key spaces inside the node's LSM engine. Part of the on-disk format: never change meaning.
const DATA_PREFIX = 0x64; // 'd' + user key
const HINT_PREFIX = 0x68; // 'h' + target node id + 0x00 + user key
// A hint's value: u8 HINT_FORMAT_V1, f64 big-endian createdMs, then the encoded sibling set.
// A value starting with the sibling-set format byte instead is a hint stored before hints had
// a creation time: it counts as created when the node opened its storage.
const HINT_FORMAT_V1 = 0x01;
const HINT_HEADER_BYTES = 9;

function encodeHint(createdMs: number, set: StoredSet): Uint8Array {
  const body = encodeSiblingSet(set);
  const out = new Uint8Array(HINT_HEADER_BYTES + body.length);
  out[0] = HINT_FORMAT_V1;
  new DataView(out.buffer).setFloat64(1, createdMs);
  out.set(body, HINT_HEADER_BYTES);
  return out;
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

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
  k[id.length + 1] = 0;
  return k;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function lockName(space: Uint8Array): string {
  return Buffer.from(space.buffer, space.byteOffset, space.byteLength).toString("latin1");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

export interface NodeStorageOptions {
  readonly dataDir: string;
  readonly syncWrites: boolean;
  readonly conflictPolicy: "siblings" | "lww";
}

/**
 * The node's replicas and hints in one @distkv/lsm database. Every write merges with what
 * is stored (vclock sync), so replication, read repair and hint delivery are idempotent and
 * can arrive in any order. It is both the replica store and the hint store of @distkv/quorum.
 */
export class NodeStorage implements ReplicaStore, HintStore {
  private readonly lock = new KeyLock();
  private hintCount = 0;
  private writeFailure: unknown;
  private hintVersionCounter = 0;
  private readonly hintVersions = new Map<string, number>();
  /** When this storage opened: the creation time of hints stored without one. */
  private readonly openedMs = Date.now();
  /**
   * Called, under the key's lock, after every change of a stored sibling set with the bytes
   * now stored (undefined after a purge) and, when at hand, the set they encode: anti-entropy
   * keeps its Merkle trees current with it.
   */
  onDataWrite:
    | ((key: Uint8Array, stored: Uint8Array | undefined, set?: StoredSet) => void)
    | undefined;

  private constructor(
    readonly db: Db,
    private readonly options: NodeStorageOptions,
  ) {}

  static async open(options: NodeStorageOptions): Promise<NodeStorage> {
    const db = await open(options.dataDir, { createIfMissing: true });
    const storage = new NodeStorage(db, options);
    storage.hintCount = await storage.countHints();
    return storage;
  }

  /**
   * The stored sibling set of `key`, or undefined when this replica has never seen it.
   * After any write of the key in progress (the key's lock): @distkv/lsm shows a write as soon
   * as it is in its log, before the write completes (and keeps showing it if the write fails). Served to a coordinator and then
   * lost, such a version would let this node reuse its dot for another value (found by
   * @distkv/simulation, seed 933).
   */
  read(key: Uint8Array): Promise<StoredSet | undefined> {
    const k = dataKey(key);
    // No lock held at all (a read-only load): no need for the key's lock name either.
    const name = this.lock.size === 0 ? undefined : lockName(k);
    if (name === undefined || !this.lock.held(name)) {
      // No write of this key in progress, so nothing unfinished to hide: read at once (the
      // lock's promises were a visible share of a read's cost).
      try {
        this.checkHealthy();
      } catch (e) {
        return Promise.reject(e);
      }
      return this.db
        .get(k)
        .then((bytes) => (bytes === undefined ? undefined : decodeSiblingSet(bytes)));
    }
    return this.lock.run(name, async () => {
      this.checkHealthy();
      const bytes = await this.db.get(k);
      return bytes === undefined ? undefined : decodeSiblingSet(bytes);
    });
  }

  /** Merges `incoming` into the stored set of `key` and returns the result. */
  merge(key: Uint8Array, incoming: StoredSet): Promise<StoredSet> {
    const k = dataKey(key);
    return this.lock.run(lockName(k), async () => {
      const merged = await this.mergeInto(k, incoming);
      return merged.set;
    });
  }

  /** The encoded sibling set stored for `key` (for anti-entropy), or undefined. */
  readEncoded(key: Uint8Array): Promise<Uint8Array | undefined> {
    const k = dataKey(key);
    return this.lock.run(lockName(k), async () => {
      this.checkHealthy();
      return this.db.get(k);
    });
  }

  /** Merges an encoded set (anti-entropy repair) and returns the encoding now stored. */
  mergeEncoded(key: Uint8Array, siblings: Uint8Array): Promise<Uint8Array> {
    const k = dataKey(key);
    return this.lock.run(lockName(k), async () => {
      const { set } = await this.mergeInto(k, decodeSiblingSet(siblings));
      return encodeSiblingSet(set);
    });
  }

  /**
   * Deletes `key` if its stored encoding is still exactly `expected` (tombstone GC), under the
   * key's lock so a racing write keeps it. Resolves to whether it deleted.
   */
  purgeIfUnchanged(key: Uint8Array, expected: Uint8Array): Promise<boolean> {
    const k = dataKey(key);
    return this.lock.run(lockName(k), async () => {
      const current = await this.db.get(k);
      if (current === undefined || !sameBytes(current, expected)) return false;
      await this.write(this.db.delete(k, { sync: this.options.syncWrites }));
      this.onDataWrite?.(key, undefined);
      return true;
    });
  }

  /**
   * Deletes `key`, which no ring places a replica of here (cleanup after a join), if
   * `stillForeign()`, asked under the key's lock, confirms that still holds. Resolves to the
   * bytes deleted (key and sibling set), 0 when it kept the key or had none.
   */
  dropIfForeign(key: Uint8Array, stillForeign: () => boolean): Promise<number> {
    const k = dataKey(key);
    return this.lock.run(lockName(k), async () => {
      this.checkHealthy();
      if (!stillForeign()) return 0;
      const current = await this.db.get(k);
      if (current === undefined) return 0;
      await this.write(this.db.delete(k, { sync: this.options.syncWrites }));
      this.onDataWrite?.(key, undefined);
      return key.length + current.length;
    });
  }

  /** Merges a set streamed in during a hand-over; true when this node did not have the key. */
  mergeStreamed(key: Uint8Array, incoming: StoredSet): Promise<boolean> {
    const k = dataKey(key);
    return this.lock.run(lockName(k), async () => (await this.mergeInto(k, incoming)).created);
  }

  private async mergeInto(
    k: Uint8Array,
    incoming: StoredSet,
  ): Promise<{ set: StoredSet; created: boolean }> {
    this.checkHealthy();
    const currentBytes = await this.db.get(k);
    const current = currentBytes === undefined ? undefined : decodeSiblingSet(currentBytes);
    let merged = current === undefined ? incoming : sync(current, incoming);
    if (this.options.conflictPolicy === "lww") merged = resolveLww(merged);
    const encoded = encodeSiblingSet(merged);
    if (currentBytes === undefined || !sameBytes(currentBytes, encoded)) {
      await this.write(this.db.put(k, encoded, { sync: this.options.syncWrites }));
      this.onDataWrite?.(k.subarray(1), encoded, merged);
    }
    return { set: merged, created: currentBytes === undefined };
  }

  /**
   * One page of stored data in key order after `afterKey` (exclusive; undefined: from the
   * first key): the entries `accept` takes, until about `maxBytes` of them or `maxScanned`
   * keys scanned. For streaming ranges to a joining node and handing data over on leave.
   */
  async scanData(
    afterKey: Uint8Array | undefined,
    limits: { maxBytes: number; maxScanned: number },
    accept: (key: Uint8Array) => boolean,
  ): Promise<DataPage> {
    const entries: { key: Uint8Array; siblings: Uint8Array }[] = [];
    let bytes = 0;
    let scanned = 0;
    let lastKey: Uint8Array | undefined;
    const it = this.db.iterator(
      afterKey === undefined
        ? { gte: Uint8Array.of(DATA_PREFIX), lt: Uint8Array.of(DATA_PREFIX + 1) }
        : { gt: dataKey(afterKey), lt: Uint8Array.of(DATA_PREFIX + 1) },
    );
    try {
      for (;;) {
        if (scanned >= limits.maxScanned || bytes >= limits.maxBytes) {
          return { entries, lastKey, done: false, scanned };
        }
        const next = await it.next();
        if (next === undefined) return { entries, lastKey, done: true, scanned };
        const key = next[0].subarray(1);
        scanned++;
        lastKey = key;
        if (!accept(key)) continue;
        entries.push({ key, siblings: next[1] });
        bytes += key.length + next[1].length;
      }
    } finally {
      await it.close();
    }
  }

  // ---- HintStore (@distkv/quorum): writes held for a down node, handed off when it returns.

  get size(): number {
    return this.hintCount;
  }

  put(
    target: string,
    key: Uint8Array,
    set: StoredSet,
    maxHints: number,
    nowMs: number,
  ): Promise<HintPutResult> {
    const k = concat(hintPrefix(target), key);
    const name = lockName(k);
    return this.lock.run(name, async () => {
      const bytes = await this.db.get(k);
      if (bytes === undefined && this.hintCount >= maxHints) return "full";
      const existing = bytes === undefined ? undefined : this.decodeHint(bytes);
      const merged = existing === undefined ? set : sync(existing.set, set);
      const createdMs = existing === undefined ? nowMs : existing.createdMs;
      await this.write(
        this.db.put(k, encodeHint(createdMs, merged), { sync: this.options.syncWrites }),
      );
      this.hintVersions.set(name, ++this.hintVersionCounter);
      if (existing !== undefined) return "merged";
      this.hintCount++;
      return "created";
    });
  }

  async list(target: string, limit: number): Promise<Hint[]> {
    const prefix = hintPrefix(target);
    const out: Hint[] = [];
    const it = this.db.iterator({ prefix, limit });
    try {
      for await (const [k, v] of it) {
        const { createdMs, set } = this.decodeHint(v);
        out.push({
          targetNodeId: target,
          key: k.subarray(prefix.length),
          set,
          version: this.hintVersion(lockName(k)),
          createdMs,
        });
      }
    } finally {
      await it.close();
    }
    return out;
  }

  async targets(): Promise<string[]> {
    const targets: string[] = [];
    let from: Uint8Array = Uint8Array.of(HINT_PREFIX);
    for (;;) {
      const it = this.db.iterator({ gte: from, lt: Uint8Array.of(HINT_PREFIX + 1), limit: 1 });
      const first = await it.next();
      await it.close();
      if (first === undefined) return targets;
      const k = first[0];
      const target = utf8d.decode(k.subarray(1, k.indexOf(0, 1)));
      targets.push(target);
      from = hintPrefix(target);
      from[from.length - 1] = 1; // just past every key of this target
    }
  }

  delete(target: string, key: Uint8Array, version: number): Promise<boolean> {
    const k = concat(hintPrefix(target), key);
    const name = lockName(k);
    return this.lock.run(name, async () => {
      if (this.hintVersion(name) !== version) return false;
      if ((await this.db.get(k)) === undefined) return false;
      await this.write(this.db.delete(k, { sync: this.options.syncWrites }));
      this.hintVersions.delete(name);
      this.hintCount--;
      return true;
    });
  }

  /** Deletes every hint created before `cutoffMs` (HintStore.expire). */
  async expire(cutoffMs: number): Promise<number> {
    const old: Uint8Array[] = [];
    const it = this.db.iterator({ prefix: Uint8Array.of(HINT_PREFIX) });
    try {
      for await (const [k, v] of it) {
        if (this.decodeHint(v).createdMs < cutoffMs) old.push(k);
      }
    } finally {
      await it.close();
    }
    let n = 0;
    for (const k of old) {
      const name = lockName(k);
      const deleted = await this.lock.run(name, async () => {
        const v = await this.db.get(k);
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

  private decodeHint(bytes: Uint8Array): { createdMs: number; set: StoredSet } {
    if (bytes[0] !== HINT_FORMAT_V1) {
      return { createdMs: this.openedMs, set: decodeSiblingSet(bytes) };
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return {
      createdMs: view.getFloat64(1),
      set: decodeSiblingSet(bytes.subarray(HINT_HEADER_BYTES)),
    };
  }

  /** Versions live in memory: after a restart every stored hint gets a fresh one when listed. */
  private hintVersion(name: string): number {
    let v = this.hintVersions.get(name);
    if (v === undefined) {
      v = ++this.hintVersionCounter;
      this.hintVersions.set(name, v);
    }
    return v;
  }

  private async countHints(): Promise<number> {
    let n = 0;
    const it = this.db.iterator({ prefix: Uint8Array.of(HINT_PREFIX) });
    try {
      while ((await it.next()) !== undefined) n++;
    } finally {
      await it.close();
    }
    return n;
  }

  /** The first write error; from then on every read and write fails until a restart. */
  get failure(): unknown {
    return this.writeFailure;
  }

  /**
   * Fail-stop: after a failed write this replica can neither vouch for what it shows nor take
   * the writes that would keep it current, so it refuses every call until the node restarts
   * (the coordinator routes around it).
   */
  private checkHealthy(): void {
    if (this.writeFailure !== undefined) {
      throw new Error(
        `storage failed after a write error (${String((this.writeFailure as Error)?.message ?? this.writeFailure)}); restart the node`,
        { cause: this.writeFailure },
      );
    }
  }

  private async write(op: Promise<void>): Promise<void> {
    try {
      await op;
    } catch (e) {
      this.writeFailure ??= e;
      throw e;
    }
  }

  storageBytes(): number {
    const s = this.db.stats();
    return s.tableBytes + s.memtable.bytes + s.memtable.immutableBytes;
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
