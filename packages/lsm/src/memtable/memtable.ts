/**
 * The memtable: a skiplist of entries ordered like internal keys (user key ascending, sequence
 * descending). Writes go here after the WAL; reads consult it first.
 *
 * Why a skiplist: inserts and point lookups are O(log n) with no rebalancing, and nodes never
 * move, so an iterator positioned on a node stays valid while writes continue (readers filter
 * out entries newer than their sequence).
 *
 * Why it is built from typed arrays: a node per JS object (plus its next-pointer array and two
 * views) cost ~1.3 us per insert and most of the garbage collector's time under load. Here every
 * entry's bytes live in arena chunks, laid out as [user key][8-byte trailer][value] so that an
 * iterator's key() is just a view of the internal key, and node fields (location, lengths,
 * sequence, tower of next pointers) live in parallel typed arrays. No per-entry objects exist.
 *
 * Single-threaded by construction (JS), so there is no concurrency control.
 */

import { encodeTrailer, internalKeySequence, TRAILER_BYTES, ValueType } from "../internal-key.js";
import type { InternalIterator } from "../iterator/types.js";

const MAX_HEIGHT = 12;
/** 1 in BRANCHING nodes is promoted a level (leveldb uses 4). */
const BRANCHING = 4;
const CHUNK_BYTES = 1 << 20;
/** Initial capacity of the node array (it doubles as needed). */
const INITIAL_REC_INTS = 1 << 14;
/** Node index meaning "none". Node 0 is the head. */
const NIL = -1;
const HEAD = 0;
/**
 * Bytes charged per entry on top of its key and value (typed-array fields and next pointers),
 * so the memtable budget tracks memory use.
 */
export const MEMTABLE_ENTRY_OVERHEAD_BYTES = 44;

/** Result of a memtable or table point lookup. */
export const LookupState = {
  NotFound: 0,
  Found: 1,
  Deleted: 2,
} as const;
export type LookupState = (typeof LookupState)[keyof typeof LookupState];

export interface LookupResult {
  state: LookupState;
  value: Uint8Array | undefined;
}

// Node record layout in `rec` (Int32Array; node id = index of its first field). Keeping every
// field of a node, its first 16 key bytes and its tower of next pointers in one record means a
// search step touches one cache line, and only ties on the first 16 bytes read the arena.
const F_KEY_LEN = 0;
const F_VAL_LEN = 1;
const F_CHUNK = 2;
const F_OFF = 3;
const F_SEQ_HI = 4;
const F_SEQ_LO = 5;
const F_K0 = 6; // 4 big-endian words of the first 16 key bytes, zero padded
const F_HEIGHT = 10;
const F_NEXT = 11;
const TWO_32 = 0x1_0000_0000;

function keyWord(key: Uint8Array, start: number, end: number, w: number): number {
  const p = start + w * 4;
  const b0 = p < end ? key[p]! : 0;
  const b1 = p + 1 < end ? key[p + 1]! : 0;
  const b2 = p + 2 < end ? key[p + 2]! : 0;
  const b3 = p + 3 < end ? key[p + 3]! : 0;
  return ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

/**
 * Arena chunks and node arrays of retired memtables, kept for the next ones (one pool per
 * database). A memtable's memory is about writeBufferBytes and one is retired per
 * writeBufferBytes written: allocating and freeing megabyte buffers at that rate left glibc's
 * malloc holding tens of megabytes it could not return (a freed mmap-sized chunk raises its mmap
 * threshold, and later chunks then come from, and fragment, the heap). Idle chunks are capped at
 * about one memtable's worth.
 */
export class MemtablePool {
  private readonly chunks: Uint8Array[] = [];
  private rec: Int32Array | undefined;

  constructor(
    /** Idle arena chunks kept at most. */
    readonly maxIdleChunks: number,
  ) {}

  /** Sized for memtables of `writeBufferBytes`. */
  static forWriteBuffer(writeBufferBytes: number): MemtablePool {
    return new MemtablePool(Math.ceil(writeBufferBytes / CHUNK_BYTES) + 1);
  }

  takeChunk(): Uint8Array {
    return this.chunks.pop() ?? new Uint8Array(CHUNK_BYTES);
  }

  giveChunk(c: Uint8Array): void {
    if (c.length === CHUNK_BYTES && this.chunks.length < this.maxIdleChunks) this.chunks.push(c);
  }

  /** A node array kept from a retired memtable (the largest one seen), or undefined. */
  takeRec(): Int32Array | undefined {
    const r = this.rec;
    this.rec = undefined;
    return r;
  }

  giveRec(r: Int32Array): void {
    if (this.rec === undefined || this.rec.length < r.length) this.rec = r;
  }

  /** Idle chunks held (tests). */
  get idleChunks(): number {
    return this.chunks.length;
  }
}

export class Memtable {
  private chunks: Uint8Array[] = [];
  private chunk: Uint8Array = new Uint8Array(0);
  private chunkUsed = 0;
  private chunkIndex = -1;

  private rec: Int32Array;
  private recU: Uint32Array;
  private recUsed = 0;
  private entries = 0;

  private height = 1;
  private bytes = 0;
  private readonly prev = new Int32Array(MAX_HEIGHT);
  // The search key's first 16 bytes as words, set by setTarget().
  private t0 = 0;
  private t1 = 0;
  private t2 = 0;
  private t3 = 0;

  /** Smallest and largest sequence inserted (0 when empty). */
  firstSequence = 0;
  lastSequence = 0;
  /** WAL file whose records fill this memtable (set by the engine). */
  logNumber = 0;

  /** References: the database's, plus one per open iterator (see ref/unref). */
  private refs = 1;

  /**
   * @param pool Where the arena comes from and goes back to once every reference is dropped;
   * without one, the garbage collector frees it.
   */
  constructor(private readonly pool?: MemtablePool) {
    this.rec = pool?.takeRec() ?? new Int32Array(INITIAL_REC_INTS);
    this.recU = new Uint32Array(this.rec.buffer);
    // The head: an empty key with a full tower.
    this.rec[HEAD + F_HEIGHT] = MAX_HEIGHT;
    this.rec.fill(NIL, HEAD + F_NEXT, HEAD + F_NEXT + MAX_HEIGHT);
    this.recUsed = F_NEXT + MAX_HEIGHT;
  }

  /**
   * Takes a reference: the memory stays valid until every reference is dropped. The creator
   * holds the first one; an iterator over the memtable takes one for as long as it is open,
   * since its keys and values are views into the arena.
   */
  ref(): void {
    this.checkLive();
    this.refs++;
  }

  /**
   * Drops a reference. At zero the arena goes back to the pool for another memtable to
   * overwrite, so nothing may read this memtable (or views it handed out) afterwards; it then
   * throws on use.
   */
  unref(): void {
    this.checkLive();
    if (--this.refs > 0) return;
    const pool = this.pool;
    if (pool !== undefined) {
      for (const c of this.chunks) pool.giveChunk(c);
      pool.giveRec(this.rec);
    }
    this.chunks = [];
    this.chunk = new Uint8Array(0);
    this.rec = new Int32Array(0);
    this.recU = new Uint32Array(0);
  }

  private checkLive(): void {
    if (this.refs <= 0) throw new Error("memtable used after its last reference was dropped");
  }

  /** Approximate bytes held, compared with the write buffer budget. */
  approximateBytes(): number {
    return this.bytes;
  }

  count(): number {
    return this.entries;
  }

  isEmpty(): boolean {
    return this.entries === 0;
  }

  private randomHeight(): number {
    let h = 1;
    while (h < MAX_HEIGHT && Math.random() * BRANCHING < 1) h++;
    return h;
  }

  /** Reserves `n` contiguous arena bytes; returns the offset in this.chunk. */
  private alloc(n: number): number {
    if (this.chunkUsed + n > this.chunk.length) {
      this.chunk =
        n > CHUNK_BYTES
          ? new Uint8Array(n)
          : (this.pool?.takeChunk() ?? new Uint8Array(CHUNK_BYTES));
      this.chunks.push(this.chunk);
      this.chunkIndex++;
      this.chunkUsed = 0;
    }
    const off = this.chunkUsed;
    this.chunkUsed += n;
    return off;
  }

  private setTarget(key: Uint8Array, kStart: number, kEnd: number): void {
    this.t0 = keyWord(key, kStart, kEnd, 0);
    this.t1 = keyWord(key, kStart, kEnd, 1);
    this.t2 = keyWord(key, kStart, kEnd, 2);
    this.t3 = keyWord(key, kStart, kEnd, 3);
  }

  /**
   * Compares node `x` with the target (key[kStart, kEnd), seq), whose words setTarget() stored:
   * negative if the node sorts first. Within a user key, larger sequences sort first.
   */
  private cmpNode(x: number, key: Uint8Array, kStart: number, kEnd: number, seq: number): number {
    const u = this.recU;
    let a = u[x + F_K0]!;
    if (a !== this.t0) return a < this.t0 ? -1 : 1;
    a = u[x + F_K0 + 1]!;
    if (a !== this.t1) return a < this.t1 ? -1 : 1;
    a = u[x + F_K0 + 2]!;
    if (a !== this.t2) return a < this.t2 ? -1 : 1;
    a = u[x + F_K0 + 3]!;
    if (a !== this.t3) return a < this.t3 ? -1 : 1;
    const r = this.rec;
    const la = r[x + F_KEY_LEN]!;
    const lb = kEnd - kStart;
    if (la > 16 && lb > 16) {
      const c = this.chunks[r[x + F_CHUNK]!]!;
      const off = r[x + F_OFF]!;
      const n = Math.min(la, lb);
      for (let i = 16; i < n; i++) {
        const d = c[off + i]! - key[kStart + i]!;
        if (d !== 0) return d;
      }
    }
    // Equal up to the shorter length (zero padding made the words equal): shorter first.
    if (la !== lb) return la - lb;
    const s = r[x + F_SEQ_HI]! * TWO_32 + (r[x + F_SEQ_LO]! >>> 0);
    return s > seq ? -1 : s < seq ? 1 : 0;
  }

  /** Fills this.prev (if asked) and returns the first node >= (key, seq) or NIL. */
  private findGreaterOrEqual(
    key: Uint8Array,
    kStart: number,
    kEnd: number,
    seq: number,
    fillPrev: boolean,
  ): number {
    this.setTarget(key, kStart, kEnd);
    const r = this.rec;
    let x = HEAD;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const nx = r[x + F_NEXT + level]!;
        if (nx === NIL || this.cmpNode(nx, key, kStart, kEnd, seq) >= 0) break;
        x = nx;
      }
      if (fillPrev) this.prev[level] = x;
    }
    return r[x + F_NEXT]!;
  }

  /**
   * Inserts an entry, copying key[kStart, kEnd) and value[vStart, vEnd) into the arena.
   * Sequence numbers are unique per entry.
   */
  addRange(
    seq: number,
    type: number,
    key: Uint8Array,
    kStart: number,
    kEnd: number,
    value: Uint8Array,
    vStart: number,
    vEnd: number,
  ): void {
    this.findGreaterOrEqual(key, kStart, kEnd, seq, true);
    const kl = kEnd - kStart;
    const vl = vEnd - vStart;
    const off = this.alloc(kl + TRAILER_BYTES + vl);
    const c = this.chunk;
    if (kl < 32) for (let i = 0; i < kl; i++) c[off + i] = key[kStart + i]!;
    else c.set(key.subarray(kStart, kEnd), off);
    encodeTrailer(c, off + kl, seq, type);
    const vo = off + kl + TRAILER_BYTES;
    if (vl < 64) for (let i = 0; i < vl; i++) c[vo + i] = value[vStart + i]!;
    else c.set(value.subarray(vStart, vEnd), vo);

    const h = this.randomHeight();
    if (h > this.height) {
      for (let i = this.height; i < h; i++) this.prev[i] = HEAD;
      this.height = h;
    }
    const x = this.recUsed;
    const need = x + F_NEXT + h;
    if (need > this.rec.length) {
      let cap = this.rec.length * 2;
      while (cap < need) cap *= 2;
      const nr = new Int32Array(cap);
      nr.set(this.rec.subarray(0, this.recUsed));
      this.rec = nr;
      this.recU = new Uint32Array(nr.buffer);
    }
    this.recUsed = need;
    const r = this.rec;
    const u = this.recU;
    r[x + F_KEY_LEN] = kl;
    r[x + F_VAL_LEN] = vl;
    r[x + F_CHUNK] = this.chunkIndex;
    r[x + F_OFF] = off;
    r[x + F_SEQ_HI] = Math.floor(seq / TWO_32);
    r[x + F_SEQ_LO] = (seq % TWO_32) | 0;
    u[x + F_K0] = this.t0;
    u[x + F_K0 + 1] = this.t1;
    u[x + F_K0 + 2] = this.t2;
    u[x + F_K0 + 3] = this.t3;
    r[x + F_HEIGHT] = h;
    for (let i = 0; i < h; i++) {
      const p = this.prev[i]!;
      r[x + F_NEXT + i] = r[p + F_NEXT + i]!;
      r[p + F_NEXT + i] = x;
    }
    this.entries++;
    this.bytes += kl + vl + TRAILER_BYTES + MEMTABLE_ENTRY_OVERHEAD_BYTES + h * 4;
    if (this.firstSequence === 0 || seq < this.firstSequence) this.firstSequence = seq;
    if (seq > this.lastSequence) this.lastSequence = seq;
  }

  add(seq: number, type: number, key: Uint8Array, value: Uint8Array): void {
    this.addRange(seq, type, key, 0, key.length, value, 0, value.length);
  }

  /**
   * Newest entry of `key` with sequence <= `seq`. Writes the answer into `out` and returns true
   * if the memtable decided it (found or deleted); false means look further down. A found value
   * is a view into the arena: copy it before handing it out.
   */
  get(key: Uint8Array, seq: number, out: LookupResult): boolean {
    this.checkLive();
    const x = this.findGreaterOrEqual(key, 0, key.length, seq, false);
    if (x === NIL) return false;
    const r = this.rec;
    const kl = r[x + F_KEY_LEN]!;
    if (kl !== key.length) return false;
    const c = this.chunks[r[x + F_CHUNK]!]!;
    const off = r[x + F_OFF]!;
    for (let i = 0; i < kl; i++) if (c[off + i] !== key[i]) return false;
    if (c[off + kl] === ValueType.Value) {
      out.state = LookupState.Found;
      const vo = off + kl + TRAILER_BYTES;
      out.value = c.subarray(vo, vo + r[x + F_VAL_LEN]!);
    } else {
      out.state = LookupState.Deleted;
      out.value = undefined;
    }
    return true;
  }

  /** @internal first node >= the internal key `target` (sequences are unique per memtable). */
  seekNode(target: Uint8Array): number {
    const kl = target.length - TRAILER_BYTES;
    return this.findGreaterOrEqual(target, 0, kl, internalKeySequence(target), false);
  }

  /** @internal last node before `node` (NIL if none). */
  prevNode(node: number): number {
    const r = this.rec;
    const c = this.chunks[r[node + F_CHUNK]!]!;
    const off = r[node + F_OFF]!;
    const seq = r[node + F_SEQ_HI]! * TWO_32 + (r[node + F_SEQ_LO]! >>> 0);
    const kEnd = off + r[node + F_KEY_LEN]!;
    this.setTarget(c, off, kEnd);
    let x = HEAD;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const nx = r[x + F_NEXT + level]!;
        if (nx === NIL || this.cmpNode(nx, c, off, kEnd, seq) >= 0) break;
        x = nx;
      }
    }
    return x === HEAD ? NIL : x;
  }

  /** @internal */
  firstNode(): number {
    return this.rec[HEAD + F_NEXT]!;
  }

  /** @internal */
  lastNode(): number {
    const r = this.rec;
    let x = HEAD;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const nx = r[x + F_NEXT + level]!;
        if (nx === NIL) break;
        x = nx;
      }
    }
    return x === HEAD ? NIL : x;
  }

  /** @internal */
  nextNode(node: number): number {
    return this.rec[node + F_NEXT]!;
  }

  /** @internal the internal key of a node (a view into the arena). */
  nodeKey(node: number): Uint8Array {
    const r = this.rec;
    const off = r[node + F_OFF]!;
    return this.chunks[r[node + F_CHUNK]!]!.subarray(
      off,
      off + r[node + F_KEY_LEN]! + TRAILER_BYTES,
    );
  }

  /** @internal the value of a node (a view into the arena). */
  nodeValue(node: number): Uint8Array {
    const r = this.rec;
    const vo = r[node + F_OFF]! + r[node + F_KEY_LEN]! + TRAILER_BYTES;
    return this.chunks[r[node + F_CHUNK]!]!.subarray(vo, vo + r[node + F_VAL_LEN]!);
  }

  /** An iterator (its keys and values are views into the arena: see ref()). */
  iterator(): InternalIterator {
    this.checkLive();
    return new MemtableIterator(this);
  }
}

class MemtableIterator implements InternalIterator {
  private node = NIL;
  constructor(private readonly mem: Memtable) {}
  valid(): boolean {
    return this.node !== NIL;
  }
  seekToFirst(): void {
    this.node = this.mem.firstNode();
  }
  seekToLast(): void {
    this.node = this.mem.lastNode();
  }
  seek(target: Uint8Array): void {
    this.node = this.mem.seekNode(target);
  }
  next(): void {
    this.node = this.mem.nextNode(this.node);
  }
  prev(): void {
    this.node = this.mem.prevNode(this.node);
  }
  key(): Uint8Array {
    return this.mem.nodeKey(this.node);
  }
  value(): Uint8Array {
    return this.mem.nodeValue(this.node);
  }
}
