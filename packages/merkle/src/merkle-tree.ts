import { hash } from "node:crypto";
import { ByteReader, ByteWriter } from "./bytes.js";
import {
  bytesLatin1,
  DIGEST_BYTES,
  digestInto,
  hashChildren,
  latin1Bytes,
  xorBytesInto,
  xorInto,
} from "./digest.js";
import {
  describe,
  InvalidMerkleArgumentError,
  MerkleProtocolError,
  MerkleShapeMismatchError,
} from "./errors.js";
import {
  type MerkleTreeOptions,
  type ResolvedMerkleTreeOptions,
  resolveMerkleTreeOptions,
} from "./options.js";
import { offsetInRange, RING_SIZE, segmentOf, tokenRangeSize } from "./range.js";
import { decodeRequest, QueryKind, ReplyWriter, type WireEntry } from "./wire.js";

/** How many split leaves the tree keeps sorted between exchanges. */
const MAX_SPLIT_CACHE = 4096;

/** A leaf's entries in position order: parallel arrays. */
interface SortedLeaf {
  /** High and low 32 bits of each position. */
  readonly hi: Float64Array;
  readonly lo: Float64Array;
  readonly keys: string[];
  /** 16 bytes per entry, back to back. */
  readonly digests: Uint8Array;
}

/** A node of the tree: how many entries lie under it and their combined hash. */
export interface MerkleNode {
  readonly count: number;
  /** 16 bytes; all zero for an empty node. */
  readonly hash: Uint8Array;
}

/** An entry as the tree holds it. */
export interface MerkleEntry {
  readonly key: Uint8Array;
  /** 16 bytes: `entryDigest(key, version)`. */
  readonly digest: Uint8Array;
}

/** An entry to insert: the tree hashes the key and version into its digest. */
export interface VersionedEntry {
  readonly key: Uint8Array;
  readonly version: Uint8Array;
}

export interface AnswerOptions {
  /**
   * Stop adding entry segments to a reply once it is this large (the asker asks again for the
   * rest); at least one segment per entries query is always answered.
   * @default 1 MiB
   */
  readonly maxReplyBytes?: number;
}

export const DEFAULT_MAX_REPLY_BYTES = 1 << 20;

/**
 * Nodes of one level (or the children of one node) as counts and back-to-back 16-byte hashes
 * starting at `offset`. Internal: shared by `answer` and the diff.
 */
export interface NodeSpan {
  readonly counts: ArrayLike<number>;
  readonly hashes: Uint8Array;
  readonly offset: number;
}

/**
 * A Merkle tree over the keys of a token range. The range is split into fanout^depth equal
 * leaf segments by token; a leaf's hash is the XOR of its entries' digests (a strong hash of
 * key and version), so every write updates it in O(1) and in any order; inner nodes hash their
 * children and are recomputed lazily, only along paths that changed, when next read.
 *
 * The tree also keeps each leaf's entries (key and digest) in memory, which is what lets an
 * exchange end with the exact keys that differ, and split a differing leaf further on the fly.
 * Memory: about 20 bytes per leaf plus, per entry, the key and a 16-byte digest as strings in
 * a Map (roughly 90 bytes + key length; see the README's measurements).
 */
export class MerkleTree {
  readonly options: ResolvedMerkleTreeOptions;
  /**
   * Identifies the tree's range, fanout and depth. Requests carry it, and a tree answers only
   * requests from a tree of the same shape.
   */
  readonly shapeId: number;
  private readonly rangeSize: bigint;
  private readonly leafHash: Uint8Array;
  private readonly leafCount: Uint32Array;
  private readonly leafEntries: Array<Map<string, string> | undefined>;
  /** Per inner level 0..depth-1. */
  private readonly innerHash: Uint8Array[] = [];
  private readonly innerCount: Float64Array[] = [];
  private readonly dirty: Uint8Array[] = [];
  private anyDirty = false;
  private total = 0;
  /**
   * Leaves split below their segment during exchanges, with their entries sorted by position:
   * a split level's nodes are then contiguous runs found by binary search. Dropped when the
   * leaf changes, and all at once past MAX_SPLIT_CACHE leaves.
   */
  private readonly splitCache = new Map<number, SortedLeaf>();
  /** An entry's stored value being built: digest, then position (see `put`). */
  private readonly scratch = Buffer.alloc(DIGEST_BYTES + 8);

  constructor(options: MerkleTreeOptions) {
    this.options = resolveMerkleTreeOptions(options);
    const { fanout, depth, leaves, range } = this.options;
    this.rangeSize = tokenRangeSize(range);
    this.leafHash = new Uint8Array(leaves * DIGEST_BYTES);
    this.leafCount = new Uint32Array(leaves);
    this.leafEntries = new Array(leaves);
    for (let l = 0; l < depth; l++) {
      const n = fanout ** l;
      this.innerHash.push(new Uint8Array(n * DIGEST_BYTES));
      this.innerCount.push(new Float64Array(n));
      this.dirty.push(new Uint8Array(n));
    }
    const shape = `distkv-merkle-v1:${fanout}:${depth}:${range.start}:${range.end}`;
    this.shapeId = hash("sha256", shape, "buffer").readUInt32BE(0);
  }

  /** Number of entries. */
  get size(): number {
    return this.total;
  }

  /** Inserts or updates `key` at `version` (any bytes naming the version; see entryDigest). */
  set(key: Uint8Array, version: Uint8Array): void {
    assertBytes(key, "key");
    assertBytes(version, "version");
    digestInto(key, version, this.scratch);
    this.put(key, this.scratch);
  }

  /** Inserts or updates `key` with a digest computed elsewhere (16 bytes, from entryDigest). */
  setDigest(key: Uint8Array, digest: Uint8Array): void {
    assertBytes(key, "key");
    assertBytes(digest, "digest");
    if (digest.length !== DIGEST_BYTES) {
      throw new InvalidMerkleArgumentError(
        `a digest is ${DIGEST_BYTES} bytes, got ${digest.length}`,
      );
    }
    this.scratch.set(digest);
    this.put(key, this.scratch);
  }

  /** Removes `key`; false when the tree does not hold it. */
  delete(key: Uint8Array): boolean {
    assertBytes(key, "key");
    const leaf = this.leafOf(key);
    const map = this.leafEntries[leaf];
    const k = bytesLatin1(key);
    const old = map?.get(k);
    if (map === undefined || old === undefined) return false;
    xorInto(this.leafHash, leaf * DIGEST_BYTES, old);
    map.delete(k);
    if (map.size === 0) this.leafEntries[leaf] = undefined;
    this.leafCount[leaf]!--;
    this.total--;
    this.markDirty(leaf);
    return true;
  }

  /** The digest the tree holds for `key`, or undefined. */
  get(key: Uint8Array): Uint8Array | undefined {
    assertBytes(key, "key");
    const v = this.leafEntries[this.leafOf(key)]?.get(bytesLatin1(key));
    return v === undefined ? undefined : latin1Bytes(v.slice(0, DIGEST_BYTES));
  }

  has(key: Uint8Array): boolean {
    assertBytes(key, "key");
    return this.leafEntries[this.leafOf(key)]?.has(bytesLatin1(key)) ?? false;
  }

  /** Removes every entry. */
  clear(): void {
    this.leafHash.fill(0);
    this.leafCount.fill(0);
    this.leafEntries.fill(undefined);
    for (let l = 0; l < this.options.depth; l++) {
      this.innerHash[l]!.fill(0);
      this.innerCount[l]!.fill(0);
      this.dirty[l]!.fill(0);
    }
    this.anyDirty = false;
    this.total = 0;
    this.splitCache.clear();
  }

  /**
   * Clears the tree and inserts every entry of `source` (e.g. a scan of a store), awaiting an
   * async source entry by entry. Resolves to the number of entries. The tree is partial while
   * this runs: build into a fresh tree and swap it in when readers must not see that.
   */
  async rebuild(
    source: Iterable<VersionedEntry> | AsyncIterable<VersionedEntry>,
    options: { signal?: AbortSignal } = {},
  ): Promise<number> {
    this.clear();
    let n = 0;
    for await (const e of source) {
      if (n % 1024 === 0) options.signal?.throwIfAborted();
      this.set(e.key, e.version);
      n++;
    }
    return this.total;
  }

  /** Every entry, leaf by leaf (token order of leaves, no order inside a leaf). */
  *entries(): Generator<MerkleEntry, void, undefined> {
    for (const map of this.leafEntries) {
      if (map === undefined) continue;
      for (const [k, v] of map) {
        yield { key: latin1Bytes(k), digest: latin1Bytes(v.slice(0, DIGEST_BYTES)) };
      }
    }
  }

  /** The root: the count and hash of everything in the tree. */
  root(): MerkleNode {
    return this.node(0, 0);
  }

  /**
   * A node: `level` 0 is the root, `depth` the leaves, deeper levels split a leaf's segment
   * further (computed on demand from its entries), down to `options.maxLevel`.
   */
  node(level: number, index: number): MerkleNode {
    this.checkNode(level, index);
    const n = this.nodeSpan(level, index);
    const at = n.offset;
    return { count: n.counts[0]!, hash: n.hashes.slice(at, at + DIGEST_BYTES) };
  }

  /** The leaf segment holding `key` (whether or not the tree holds the key). */
  leafOf(key: Uint8Array): number {
    return segmentOf(this.offsetOf(key), this.rangeSize, BigInt(this.options.leaves));
  }

  /**
   * The wire form of some nodes of one level: per node a varint entry count and, when it is
   * not 0, the 16-byte hash. `parseNodes` reads it back.
   */
  serializeNodes(level: number, indexes: readonly number[]): Uint8Array {
    const w = new ByteWriter(indexes.length * (DIGEST_BYTES + 2));
    for (const i of indexes) {
      this.checkNode(level, i);
      const n = this.nodeSpan(level, i);
      const count = n.counts[0]!;
      w.varint(count);
      if (count > 0) w.bytes(n.hashes.subarray(n.offset, n.offset + DIGEST_BYTES));
    }
    return w.finish();
  }

  /** `serializeNodes` of a whole stored level (0 to depth): fanout^level nodes. */
  serializeLevel(level: number): Uint8Array {
    if (!Number.isInteger(level) || level < 0 || level > this.options.depth) {
      throw new InvalidMerkleArgumentError(
        `a stored level is in [0, ${this.options.depth}], got ${describe(level)}`,
      );
    }
    const n = this.options.fanout ** level;
    return this.serializeNodes(
      level,
      Array.from({ length: n }, (_, i) => i),
    );
  }

  /**
   * The remote side of an exchange: answers an encoded request from `diffTrees` running against
   * a tree of the same shape with the encoded reply. Throws MerkleShapeMismatchError for a tree
   * of another shape and MerkleProtocolError for a malformed request.
   */
  answer(request: Uint8Array, options: AnswerOptions = {}): Uint8Array {
    const maxReplyBytes = options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
    const { fanout, maxLevel } = this.options;
    const { shapeId, queries } = decodeRequest(request, fanout);
    if (shapeId !== this.shapeId) {
      throw new MerkleShapeMismatchError(
        `the asking tree has shape ${shapeId.toString(16)}, this one ${this.shapeId.toString(16)} (range, fanout or depth differ)`,
      );
    }
    const w = new ReplyWriter(queries.length);
    for (const q of queries) {
      const deepest = q.kind === QueryKind.Children ? maxLevel - 1 : maxLevel;
      if (q.level > deepest) {
        throw new MerkleProtocolError(`level ${q.level} is below the deepest level ${deepest}`);
      }
      const nodes = fanout ** q.level;
      const last = q.indexes[q.indexes.length - 1];
      if (last !== undefined && last >= nodes) {
        throw new MerkleProtocolError(`index ${last} at level ${q.level} is not below ${nodes}`);
      }
      if (q.kind === QueryKind.Nodes) {
        for (const i of q.indexes) {
          const n = this.nodeSpan(q.level, i);
          w.node(n.counts[0]!, n.hashes, n.offset);
        }
      } else if (q.kind === QueryKind.Children) {
        for (const i of q.indexes) {
          const c = this.childSpan(q.level, i);
          for (let j = 0; j < fanout; j++) {
            w.node(c.counts[j]!, c.hashes, c.offset + j * DIGEST_BYTES);
          }
        }
      } else {
        const segments: WireEntry[][] = [];
        let bytes = w.length;
        for (const i of q.indexes) {
          if (segments.length > 0 && bytes > maxReplyBytes) break;
          const list = this.entriesUnder(q.level, i);
          for (const [k] of list) bytes += k.length + DIGEST_BYTES + 2;
          segments.push(list);
        }
        w.varint(segments.length);
        for (const list of segments) {
          w.varint(list.length);
          for (const [k, d] of list) w.entry(k, d);
        }
      }
    }
    return w.finish();
  }

  // ---- internal: shared with the diff in this package

  /** @internal The node (level, index) as a span of one. The caller checked the index. */
  nodeSpan(level: number, index: number): NodeSpan {
    const { depth } = this.options;
    if (level === depth) {
      return {
        counts: this.leafCount.subarray(index, index + 1),
        hashes: this.leafHash,
        offset: index * DIGEST_BYTES,
      };
    }
    if (level < depth) {
      this.refresh();
      return {
        counts: this.innerCount[level]!.subarray(index, index + 1),
        hashes: this.innerHash[level]!,
        offset: index * DIGEST_BYTES,
      };
    }
    const counts = new Float64Array(1);
    const hashes = new Uint8Array(DIGEST_BYTES);
    const leaf = this.sortedLeaf(this.leafAbove(level, index));
    const [from, to] = this.run(leaf, level, index);
    for (let i = from; i < to; i++) xorSlice(hashes, 0, leaf.digests, i);
    counts[0] = to - from;
    return { counts, hashes, offset: 0 };
  }

  /** @internal The `fanout` children of (level, index), level < maxLevel. */
  childSpan(level: number, index: number): NodeSpan {
    const { depth, fanout } = this.options;
    const first = index * fanout;
    if (level + 1 === depth) {
      return {
        counts: this.leafCount.subarray(first, first + fanout),
        hashes: this.leafHash,
        offset: first * DIGEST_BYTES,
      };
    }
    if (level + 1 < depth) {
      this.refresh();
      return {
        counts: this.innerCount[level + 1]!.subarray(first, first + fanout),
        hashes: this.innerHash[level + 1]!,
        offset: first * DIGEST_BYTES,
      };
    }
    // Below the leaves: split the parent's run of entries by their segment one level down.
    const counts = new Float64Array(fanout);
    const hashes = new Uint8Array(fanout * DIGEST_BYTES);
    const leaf = this.sortedLeaf(this.leafAbove(level + 1, first));
    const [from, to] = this.run(leaf, level, index);
    for (let i = from; i < to; i++) {
      const child = this.segmentIn(leaf, i, level + 1) - first;
      counts[child]!++;
      xorSlice(hashes, child * DIGEST_BYTES, leaf.digests, i);
    }
    return { counts, hashes, offset: 0 };
  }

  /** @internal Every entry under (level, index) as [key, digest] latin1 strings. */
  entriesUnder(level: number, index: number): WireEntry[] {
    const { depth, fanout } = this.options;
    const out: WireEntry[] = [];
    if (level <= depth) {
      const span = fanout ** (depth - level);
      for (let leaf = index * span; leaf < (index + 1) * span; leaf++) {
        const map = this.leafEntries[leaf];
        if (map !== undefined) for (const [k, v] of map) out.push([k, v.slice(0, DIGEST_BYTES)]);
      }
      return out;
    }
    const leaf = this.sortedLeaf(this.leafAbove(level, index));
    const [from, to] = this.run(leaf, level, index);
    for (let i = from; i < to; i++) {
      const at = i * DIGEST_BYTES;
      out.push([leaf.keys[i]!, bytesLatin1(leaf.digests.subarray(at, at + DIGEST_BYTES))]);
    }
    return out;
  }

  /** @internal Throws unless (level, index) names a node. */
  checkNode(level: number, index: number): void {
    const { maxLevel, fanout } = this.options;
    if (!Number.isInteger(level) || level < 0 || level > maxLevel) {
      throw new InvalidMerkleArgumentError(
        `level must be an integer in [0, ${maxLevel}], got ${describe(level)}`,
      );
    }
    const n = fanout ** level;
    if (!Number.isInteger(index) || index < 0 || index >= n) {
      throw new InvalidMerkleArgumentError(
        `index at level ${level} must be an integer in [0, ${n}), got ${describe(index)}`,
      );
    }
  }

  // ---- private

  /** The key's position in the range; throws for a bad token or one outside the range. */
  private offsetOf(key: Uint8Array): bigint {
    const token = this.options.tokenOf(key);
    if (typeof token !== "bigint" || token < 0n || token >= RING_SIZE) {
      throw new InvalidMerkleArgumentError(
        `tokenOf returned ${describe(token)}, not a bigint in [0, 2^64)`,
      );
    }
    const offset = offsetInRange(this.options.range, this.rangeSize, token);
    if (offset < 0n) {
      throw new InvalidMerkleArgumentError(
        `token ${token} of the key is outside the tree's range (${this.options.range.start}, ${this.options.range.end}]`,
      );
    }
    return offset;
  }

  /**
   * Stores the digest in `scratch[0..16)` for `key`. The stored value is a flat latin1 string
   * of the digest followed by the key's position (8 bytes, big-endian), so splitting a leaf in
   * an exchange never recomputes tokens and sorts by plain char comparison.
   */
  private put(key: Uint8Array, scratch: Buffer): void {
    const offset = this.offsetOf(key);
    const leaf = segmentOf(offset, this.rangeSize, BigInt(this.options.leaves));
    scratch.writeBigUInt64BE(offset, DIGEST_BYTES);
    const value = scratch.toString("latin1");
    let map = this.leafEntries[leaf];
    if (map === undefined) {
      map = new Map();
      this.leafEntries[leaf] = map;
    }
    const k = bytesLatin1(key);
    const old = map.get(k);
    if (old === value) return;
    const at = leaf * DIGEST_BYTES;
    if (old === undefined) {
      this.leafCount[leaf]!++;
      this.total++;
    } else {
      xorInto(this.leafHash, at, old);
    }
    xorBytesInto(this.leafHash, at, scratch);
    map.set(k, value);
    this.markDirty(leaf);
  }

  /** The leaf whose segment contains node (level, index), level > depth. */
  private leafAbove(level: number, index: number): number {
    return Math.floor(index / this.options.fanout ** (level - this.options.depth));
  }

  /** A leaf's entries sorted by position in the range (cached until the leaf changes). */
  private sortedLeaf(leaf: number): SortedLeaf {
    let sorted = this.splitCache.get(leaf);
    if (sorted !== undefined) return sorted;
    const map = this.leafEntries[leaf];
    const n = map?.size ?? 0;
    const hi = new Float64Array(n);
    const lo = new Float64Array(n);
    const keys = new Array<string>(n);
    const values = new Array<string>(n);
    let i = 0;
    for (const [k, v] of map ?? []) {
      let h = 0;
      let l = 0;
      for (let j = 0; j < 4; j++) {
        h = h * 256 + v.charCodeAt(DIGEST_BYTES + j);
        l = l * 256 + v.charCodeAt(DIGEST_BYTES + 4 + j);
      }
      hi[i] = h;
      lo[i] = l;
      keys[i] = k;
      values[i] = v;
      i++;
    }
    const order = new Uint32Array(n);
    for (let j = 0; j < n; j++) order[j] = j;
    order.sort((a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]!);
    sorted = {
      hi: new Float64Array(n),
      lo: new Float64Array(n),
      keys: new Array<string>(n),
      digests: new Uint8Array(n * DIGEST_BYTES),
    };
    for (let j = 0; j < n; j++) {
      const from = order[j]!;
      sorted.hi[j] = hi[from]!;
      sorted.lo[j] = lo[from]!;
      sorted.keys[j] = keys[from]!;
      const v = values[from]!;
      const at = j * DIGEST_BYTES;
      for (let b = 0; b < DIGEST_BYTES; b++) sorted.digests[at + b] = v.charCodeAt(b);
    }
    if (this.splitCache.size >= MAX_SPLIT_CACHE) this.splitCache.clear();
    this.splitCache.set(leaf, sorted);
    return sorted;
  }

  /** The segment at `level` of the i-th entry of a sorted leaf. */
  private segmentIn(leaf: SortedLeaf, i: number, level: number): number {
    const hi = leaf.hi[i]!;
    const lo = leaf.lo[i]!;
    if (this.rangeSize === RING_SIZE) {
      // fanout^level = 2^k segments of 2^(64-k) tokens, k <= 52: exact in doubles.
      const k = this.options.fanoutBits * level;
      if (k <= 32) return Math.floor(hi / 2 ** (32 - k));
      return hi * 2 ** (k - 32) + Math.floor(lo / 2 ** (64 - k));
    }
    const offset = (BigInt(hi) << 32n) | BigInt(lo);
    return segmentOf(offset, this.rangeSize, BigInt(this.options.fanout) ** BigInt(level));
  }

  /** The half-open run [from, to) of a sorted leaf's entries that lie under (level, index). */
  private run(leaf: SortedLeaf, level: number, index: number): [number, number] {
    const firstAtOrAfter = (target: number) => {
      let a = 0;
      let b = leaf.hi.length;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (this.segmentIn(leaf, mid, level) < target) a = mid + 1;
        else b = mid;
      }
      return a;
    };
    return [firstAtOrAfter(index), firstAtOrAfter(index + 1)];
  }

  /** Marks the leaf's ancestors for rehashing; an already dirty ancestor has dirty ancestors. */
  private markDirty(leaf: number): void {
    this.splitCache.delete(leaf);
    const bits = this.options.fanoutBits;
    let i = leaf;
    for (let l = this.options.depth - 1; l >= 0; l--) {
      i >>>= bits;
      const d = this.dirty[l]!;
      if (d[i] === 1) break;
      d[i] = 1;
    }
    this.anyDirty = true;
  }

  /** Rehashes the dirty inner nodes, bottom up. */
  private refresh(): void {
    if (!this.anyDirty) return;
    const { depth, fanout } = this.options;
    for (let l = depth - 1; l >= 0; l--) {
      const dirty = this.dirty[l]!;
      const childCounts = l + 1 === depth ? this.leafCount : this.innerCount[l + 1]!;
      const childHashes = l + 1 === depth ? this.leafHash : this.innerHash[l + 1]!;
      const counts = this.innerCount[l]!;
      const hashes = this.innerHash[l]!;
      for (let i = 0; i < dirty.length; i++) {
        if (dirty[i] === 0) continue;
        const first = i * fanout;
        const children = childCounts.subarray(first, first + fanout);
        let total = 0;
        for (let j = 0; j < fanout; j++) total += children[j]!;
        counts[i] = total;
        hashChildren(children, childHashes, first * DIGEST_BYTES, hashes, i * DIGEST_BYTES);
        dirty[i] = 0;
      }
    }
    this.anyDirty = false;
  }
}

/** Reads `serializeNodes` output back: `n` nodes. Throws MerkleProtocolError. */
export function parseNodes(bytes: Uint8Array, n: number): MerkleNode[] {
  const r = new ByteReader(bytes, "serialized nodes");
  const out: MerkleNode[] = [];
  for (let i = 0; i < n; i++) {
    const count = r.varint();
    out.push({
      count,
      hash: count === 0 ? new Uint8Array(DIGEST_BYTES) : latin1Bytes(r.latin1(DIGEST_BYTES)),
    });
  }
  r.end();
  return out;
}

/** XORs the i-th 16-byte digest of `digests` into `acc` at `offset`. */
function xorSlice(acc: Uint8Array, offset: number, digests: Uint8Array, i: number): void {
  const from = i * DIGEST_BYTES;
  for (let b = 0; b < DIGEST_BYTES; b++) acc[offset + b]! ^= digests[from + b]!;
}

function assertBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new InvalidMerkleArgumentError(`${what} must be a Uint8Array, got ${describe(value)}`);
  }
}
