/**
 * The exchange format: what a diff sends to the remote tree and what the remote answers. A
 * request carries a list of queries about nodes of the tree, a reply their results in order.
 * FORMAT: part of the node-to-node protocol; do not change meanings, add a new format byte.
 *
 * Request:
 *   u8     MERKLE_FORMAT_V1
 *   u32    shape id (big-endian) of the asking tree: range, fanout, depth
 *   varint q                             queries
 *   q x {  u8     kind                   0 nodes, 1 children, 2 entries
 *          varint level                  0 = root
 *          varint n                      node indexes at that level
 *          n x varint                    the first index, then the gap to the previous one
 *                                        (indexes strictly ascending) }
 * Reply:
 *   u8     MERKLE_FORMAT_V1
 *   varint q                             equal to the request's
 *   per query, by kind:
 *     nodes:    n x node                 the nodes themselves
 *     children: n x fanout x node        all children of each node, in order
 *     entries:  varint m (1 <= m <= n)   segments answered: the first m of the query; the asker
 *               m x { varint e           asks again for the rest (keeps a reply bounded)
 *                     e x { varint key length, key bytes, 16-byte entry digest } }
 *   node = varint entry count, then its 16-byte hash when the count is above 0.
 */
import { ByteReader, ByteWriter } from "./bytes.js";
import { DIGEST_BYTES } from "./digest.js";
import { MerkleProtocolError } from "./errors.js";

/** First byte of requests and replies, format 1. Do not change. */
export const MERKLE_FORMAT_V1 = 0x01;

/** Query kinds. Wire values: do not change. */
export const QueryKind = {
  /** The hashes and counts of the listed nodes. */
  Nodes: 0,
  /** The hashes and counts of every child of each listed node. */
  Children: 1,
  /** The entries (key, digest) under each listed node. */
  Entries: 2,
} as const;
export type QueryKind = (typeof QueryKind)[keyof typeof QueryKind];

/** Most queries in one request. */
export const MAX_QUERIES = 64;
/**
 * Most nodes one request may ask about, counting each child of a children query (bounds a
 * reply of hashes to about 1.1 MiB).
 */
export const MAX_REQUEST_NODES = 65_536;
/** Deepest level a query may name (a 64-bit range split in two at every level). */
export const MAX_QUERY_LEVEL = 64;

export interface Query {
  readonly kind: QueryKind;
  readonly level: number;
  /** Strictly ascending. */
  readonly indexes: readonly number[];
}

/** A node as the wire carries it: its entry count and, when not empty, its hash (latin1). */
export interface WireNode {
  readonly count: number;
  readonly hash: string;
}

/** One entry as the wire carries it, key and digest as latin1 strings. */
export type WireEntry = readonly [key: string, digest: string];

export type QueryResult =
  | {
      readonly kind: typeof QueryKind.Nodes | typeof QueryKind.Children;
      readonly nodes: WireNode[];
    }
  | { readonly kind: typeof QueryKind.Entries; readonly segments: WireEntry[][] };

export interface DecodedRequest {
  readonly shapeId: number;
  readonly queries: Query[];
}

/** The cost of a query against the MAX_REQUEST_NODES budget. */
export function queryCost(kind: QueryKind, nodes: number, fanout: number): number {
  return kind === QueryKind.Children ? nodes * fanout : nodes;
}

export function encodeRequest(shapeId: number, queries: readonly Query[]): Uint8Array {
  const w = new ByteWriter(16 + queries.length * 8);
  w.u8(MERKLE_FORMAT_V1);
  w.u32(shapeId);
  w.varint(queries.length);
  for (const q of queries) {
    w.u8(q.kind);
    w.varint(q.level);
    w.varint(q.indexes.length);
    let previous = -1;
    for (const index of q.indexes) {
      if (!(index > previous)) {
        throw new MerkleProtocolError("query indexes must be strictly ascending");
      }
      w.varint(previous < 0 ? index : index - previous);
      previous = index;
    }
  }
  return w.finish();
}

/**
 * Decodes and checks a request's framing and limits (kinds, levels, ordering, the node
 * budget given the answering tree's fanout). Index ranges are checked by the tree.
 */
export function decodeRequest(bytes: Uint8Array, fanout: number): DecodedRequest {
  if (!(bytes instanceof Uint8Array)) throw new MerkleProtocolError("a request must be bytes");
  const r = new ByteReader(bytes, "merkle request");
  const format = r.u8();
  if (format !== MERKLE_FORMAT_V1) r.fail(`unknown format 0x${format.toString(16)}`);
  const shapeId = r.u32();
  const q = r.varint();
  if (q > MAX_QUERIES) r.fail(`${q} queries, more than ${MAX_QUERIES}`);
  const queries: Query[] = [];
  let budget = MAX_REQUEST_NODES;
  for (let i = 0; i < q; i++) {
    const byte = r.u8();
    if (byte !== QueryKind.Nodes && byte !== QueryKind.Children && byte !== QueryKind.Entries) {
      r.fail(`unknown query kind ${byte}`);
    }
    const kind = byte as QueryKind;
    const level = r.varint();
    if (level > MAX_QUERY_LEVEL) r.fail(`level ${level} is deeper than ${MAX_QUERY_LEVEL}`);
    const n = r.varint();
    budget -= queryCost(kind, n, fanout);
    if (budget < 0) r.fail(`asks about more than ${MAX_REQUEST_NODES} nodes`);
    const indexes = new Array<number>(n);
    let previous = -1;
    for (let j = 0; j < n; j++) {
      const v = r.varint();
      if (previous >= 0 && v === 0) r.fail("indexes are not strictly ascending");
      previous = previous < 0 ? v : previous + v;
      if (previous > Number.MAX_SAFE_INTEGER) r.fail("index above 2^53 - 1");
      indexes[j] = previous;
    }
    queries.push({ kind, level, indexes });
  }
  r.end();
  return { shapeId, queries };
}

/** Builds a reply one result at a time (the tree's `answer` drives it). */
export class ReplyWriter {
  private readonly w = new ByteWriter(1024);

  constructor(queries: number) {
    this.w.u8(MERKLE_FORMAT_V1);
    this.w.varint(queries);
  }

  get length(): number {
    return this.w.length;
  }

  node(count: number, hash: Uint8Array, offset: number): void {
    this.w.varint(count);
    if (count > 0) this.w.bytes(hash.subarray(offset, offset + DIGEST_BYTES));
  }

  varint(v: number): void {
    this.w.varint(v);
  }

  entry(key: string, digest: string): void {
    this.w.varint(key.length);
    this.w.latin1(key);
    this.w.latin1(digest);
  }

  finish(): Uint8Array {
    return this.w.finish();
  }
}

/** Decodes a reply to `queries` (sent to a tree with `fanout` children per node). */
export function decodeReply(
  bytes: Uint8Array,
  queries: readonly Query[],
  fanout: number,
): QueryResult[] {
  if (!(bytes instanceof Uint8Array)) throw new MerkleProtocolError("a reply must be bytes");
  const r = new ByteReader(bytes, "merkle reply");
  const format = r.u8();
  if (format !== MERKLE_FORMAT_V1) r.fail(`unknown format 0x${format.toString(16)}`);
  const q = r.varint();
  if (q !== queries.length) r.fail(`${q} results for ${queries.length} queries`);
  const out: QueryResult[] = [];
  const node = (): WireNode => {
    const count = r.varint();
    return { count, hash: count === 0 ? "" : r.latin1(DIGEST_BYTES) };
  };
  for (const query of queries) {
    if (query.kind === QueryKind.Entries) {
      const m = r.varint();
      if (m > query.indexes.length || (m === 0 && query.indexes.length > 0)) {
        r.fail(`${m} segments answered of ${query.indexes.length} asked`);
      }
      const segments: WireEntry[][] = [];
      for (let i = 0; i < m; i++) {
        const e = r.varint();
        if (e > r.remaining) r.fail(`${e} entries cannot fit in ${r.remaining} bytes`);
        const list: WireEntry[] = [];
        for (let j = 0; j < e; j++) {
          const keyLength = r.varint();
          const key = r.latin1(keyLength);
          list.push([key, r.latin1(DIGEST_BYTES)]);
        }
        segments.push(list);
      }
      out.push({ kind: query.kind, segments });
    } else {
      const n =
        query.kind === QueryKind.Children ? query.indexes.length * fanout : query.indexes.length;
      const nodes: WireNode[] = [];
      for (let i = 0; i < n; i++) nodes.push(node());
      out.push({ kind: query.kind, nodes });
    }
  }
  r.end();
  return out;
}
