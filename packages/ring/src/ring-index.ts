import type { Token } from "./token.js";
import { tokenFromParts } from "./token.js";
import type { TokenRange } from "./token-range.js";

/**
 * How many distinct successors are precomputed per vnode. Replication factors are small (3 is
 * usual) and the coordinator's sloppy-quorum walk rarely needs more than a few extra nodes;
 * beyond this depth lookups fall back to walking the vnodes. Memory: 4 bytes x depth x vnodes.
 */
export const PRECOMPUTED_SUCCESSORS = 8;

/** One physical node's input to an index build: its id and its tokens as 32-bit halves. */
export interface IndexNode {
  readonly id: string;
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
}

/** One arc of the ring with the first `n` distinct nodes that own it. */
export interface ReplicaRange {
  readonly range: TokenRange;
  readonly replicas: readonly string[];
}

/**
 * The immutable lookup structure for one membership: every vnode sorted by (token, node id) in
 * two Uint32Arrays (high and low halves, so comparisons are exact without BigInt), the owning
 * node of each vnode, and for each vnode its first `depth` distinct physical successors.
 *
 * A key with token t belongs to the first vnode whose token is >= t (wrapping to vnode 0), so a
 * vnode owns the arc (previous token, its token]. Equal tokens on different nodes are ordered by
 * node id (UTF-16 code unit order, locale-free), which keeps the result independent of the order
 * in which nodes were added; the later vnode of such a tie owns an empty arc.
 */
export class RingIndex {
  /** Node ids, sorted; vnodes refer to nodes by position in this array. */
  readonly ids: readonly string[];
  readonly vnodeCount: number;
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  private readonly owner: Int32Array;
  private readonly depth: number;
  private readonly successors: Int32Array;

  constructor(nodes: readonly IndexNode[]) {
    const ids = nodes.map((n) => n.id).sort(compareIds);
    const position = new Map<string, number>();
    for (let i = 0; i < ids.length; i++) position.set(ids[i]!, i);

    let total = 0;
    for (const n of nodes) total += n.hi.length;
    const rawHi = new Uint32Array(total);
    const rawLo = new Uint32Array(total);
    const rawOwner = new Int32Array(total);
    let k = 0;
    for (const n of nodes) {
      const p = position.get(n.id)!;
      for (let t = 0; t < n.hi.length; t++, k++) {
        rawHi[k] = n.hi[t]!;
        rawLo[k] = n.lo[t]!;
        rawOwner[k] = p;
      }
    }
    const order = new Int32Array(total);
    for (let i = 0; i < total; i++) order[i] = i;
    order.sort(
      (a, b) =>
        rawHi[a]! - rawHi[b]! || rawLo[a]! - rawLo[b]! || rawOwner[a]! - rawOwner[b]! || a - b,
    );
    const hi = new Uint32Array(total);
    const lo = new Uint32Array(total);
    const owner = new Int32Array(total);
    for (let i = 0; i < total; i++) {
      const j = order[i]!;
      hi[i] = rawHi[j]!;
      lo[i] = rawLo[j]!;
      owner[i] = rawOwner[j]!;
    }

    this.ids = ids;
    this.vnodeCount = total;
    this.hi = hi;
    this.lo = lo;
    this.owner = owner;
    this.depth = Math.min(ids.length, PRECOMPUTED_SUCCESSORS);
    this.successors = buildSuccessors(owner, this.depth);
  }

  get nodeCount(): number {
    return this.ids.length;
  }

  /** Index of the vnode owning token (hi, lo): the first vnode with token >= it, wrapping to 0. */
  search(keyHi: number, keyLo: number): number {
    const hi = this.hi;
    const lo = this.lo;
    let a = 0;
    let b = this.vnodeCount;
    while (a < b) {
      const mid = (a + b) >>> 1;
      const h = hi[mid]!;
      if (h < keyHi || (h === keyHi && lo[mid]! < keyLo)) a = mid + 1;
      else b = mid;
    }
    return a === this.vnodeCount ? 0 : a;
  }

  /**
   * Up to `n` distinct node ids clockwise from vnode `v`, leaving out those `skip` rejects.
   * The caller guarantees the ring is not empty and `n` is a non-negative integer.
   */
  preferenceList(v: number, n: number, skip?: (id: string) => boolean): string[] {
    const count = Math.min(n, this.ids.length);
    const depth = this.depth;
    const base = v * depth;
    const ids = this.ids;
    const succ = this.successors;
    if (skip === undefined) {
      if (count <= depth) {
        const out = new Array<string>(count);
        for (let i = 0; i < count; i++) out[i] = ids[succ[base + i]!]!;
        return out;
      }
      return this.collect(v, count, undefined);
    }
    const out: string[] = [];
    if (count === 0) return out;
    for (let i = 0; i < depth; i++) {
      const id = ids[succ[base + i]!]!;
      if (!skip(id)) {
        out.push(id);
        if (out.length === count) return out;
      }
    }
    // Every node was in the table, so there is nobody left to find.
    if (depth === ids.length) return out;
    return this.collect(v, count, skip);
  }

  /** Slow path: walks vnodes from `v`, deduplicating physical nodes. */
  private collect(v: number, count: number, skip: ((id: string) => boolean) | undefined): string[] {
    const out: string[] = [];
    const seen = new Uint8Array(this.ids.length);
    let seenCount = 0;
    const total = this.vnodeCount;
    for (let step = 0; step < total && seenCount < this.ids.length; step++) {
      let j = v + step;
      if (j >= total) j -= total;
      const o = this.owner[j]!;
      if (seen[o] === 1) continue;
      seen[o] = 1;
      seenCount++;
      const id = this.ids[o]!;
      if (skip?.(id)) continue;
      out.push(id);
      if (out.length === count) break;
    }
    return out;
  }

  /** Every physical node exactly once, in clockwise order of first appearance from vnode `v`. */
  *walk(v: number): Generator<string, void, undefined> {
    const nodeCount = this.ids.length;
    if (nodeCount === 0) return;
    const seen = new Uint8Array(nodeCount);
    const base = v * this.depth;
    for (let i = 0; i < this.depth; i++) {
      const o = this.successors[base + i]!;
      seen[o] = 1;
      yield this.ids[o]!;
    }
    let seenCount = this.depth;
    const total = this.vnodeCount;
    for (let step = 0; step < total && seenCount < nodeCount; step++) {
      let j = v + step;
      if (j >= total) j -= total;
      const o = this.owner[j]!;
      if (seen[o] === 1) continue;
      seen[o] = 1;
      seenCount++;
      yield this.ids[o]!;
    }
  }

  tokenAt(v: number): Token {
    return tokenFromParts(this.hi[v]!, this.lo[v]!);
  }

  /** Tokens of all vnodes, ascending (ties in node-id order). */
  tokens(): Token[] {
    const out = new Array<Token>(this.vnodeCount);
    for (let i = 0; i < this.vnodeCount; i++) out[i] = this.tokenAt(i);
    return out;
  }

  /**
   * Calls `visit` for every non-empty arc in ring order, starting with the arc that ends at the
   * smallest token (it wraps from the largest token), with the vnode that owns the arc.
   */
  forEachArc(visit: (start: Token, end: Token, vnode: number) => void): void {
    const total = this.vnodeCount;
    if (total === 0) return;
    let previous = this.tokenAt(total - 1);
    for (let i = 0; i < total; i++) {
      // Only the first vnode of a run of equal tokens owns an arc; the others own nothing.
      if (i > 0 && this.hi[i] === this.hi[i - 1] && this.lo[i] === this.lo[i - 1]) continue;
      const end = this.tokenAt(i);
      visit(previous, end, i);
      previous = end;
    }
  }

  /** Every arc of the ring with its first `n` distinct replicas. */
  replicaRanges(n: number): ReplicaRange[] {
    const out: ReplicaRange[] = [];
    this.forEachArc((start, end, v) => {
      out.push({ range: { start, end }, replicas: this.preferenceList(v, n) });
    });
    return out;
  }

  /**
   * The arcs for which node `node` (a position in `ids`) is among the first `n` replicas, with
   * adjacent arcs merged (also across the wrap-around). Sorted by `end`; a node that replicates
   * everything gets the single whole-ring range (t, t] with t the largest token.
   */
  rangesFor(node: number, n: number): TokenRange[] {
    const id = this.ids[node]!;
    const out: { start: Token; end: Token }[] = [];
    let everything = true;
    this.forEachArc((start, end, v) => {
      if (!this.preferenceList(v, n).includes(id)) {
        everything = false;
        return;
      }
      const last = out[out.length - 1];
      if (last !== undefined && last.end === start) last.end = end;
      else out.push({ start, end });
    });
    if (out.length === 0) return [];
    if (everything) {
      const t = this.tokenAt(this.vnodeCount - 1);
      return [{ start: t, end: t }];
    }
    const first = out[0]!;
    const last = out[out.length - 1]!;
    if (out.length > 1 && last.end === first.start) {
      // The last arc runs into the first across the top of the ring: one wrapping range.
      first.start = last.start;
      out.pop();
    }
    return out;
  }
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * For each vnode, its first `depth` distinct owners clockwise (itself first). Computed backwards
 * over two laps in O(vnodes x depth): the list of vnode i is its owner followed by the list of
 * vnode i+1 without that owner. After the first lap every list has seen the whole ring, so the
 * second lap's lists are exact even for the vnodes near the top that wrap.
 */
function buildSuccessors(owner: Int32Array, depth: number): Int32Array {
  const total = owner.length;
  const out = new Int32Array(total * depth);
  if (depth === 0) return out;
  const current = new Int32Array(depth);
  let length = 0;
  for (let p = 2 * total - 1; p >= 0; p--) {
    const i = p >= total ? p - total : p;
    const o = owner[i]!;
    let at = -1;
    for (let j = 0; j < length; j++) {
      if (current[j] === o) {
        at = j;
        break;
      }
    }
    // Shift the entries before `o` (or all that still fit) one place right, then put `o` first.
    let from: number;
    if (at >= 0) from = at;
    else {
      from = length < depth ? length : depth - 1;
      if (length < depth) length++;
    }
    for (let j = from; j > 0; j--) current[j] = current[j - 1]!;
    current[0] = o;
    if (p < total) out.set(current, i * depth);
  }
  return out;
}
