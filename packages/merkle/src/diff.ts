/**
 * The exchange: compares a local tree with a remote one over an abstract async channel,
 * descending only into subtrees whose hashes differ, and ends with the keys whose digests
 * differ (or that one side lacks). Only the hashes of children of differing nodes and the
 * entries of small differing segments travel, so the bytes exchanged grow with the number of
 * differing keys (times the depth), not with the number of keys held.
 */
import { DIGEST_BYTES, latin1Bytes } from "./digest.js";
import { describe, InvalidMerkleOptionsError, MerkleProtocolError } from "./errors.js";
import type { AnswerOptions, MerkleTree, NodeSpan } from "./merkle-tree.js";
import {
  decodeReply,
  encodeRequest,
  MAX_REQUEST_NODES,
  type Query,
  QueryKind,
  type WireEntry,
  type WireNode,
} from "./wire.js";

/**
 * The other side of an exchange, however it is reached (an RPC, a stream, a function call in
 * tests): sends an encoded request to the remote tree and resolves to its encoded reply, i.e.
 * what `MerkleTree.answer(request)` returns over there. Errors reject the diff.
 */
export interface RemoteTree {
  exchange(request: Uint8Array, signal?: AbortSignal): Promise<Uint8Array>;
}

/** A RemoteTree that answers from a tree in this process (tests, examples, simulation). */
export function inProcessRemote(tree: MerkleTree, options?: AnswerOptions): RemoteTree {
  return {
    exchange: async (request, signal) => {
      signal?.throwIfAborted();
      return tree.answer(request, options);
    },
  };
}

export const DEFAULT_FETCH_THRESHOLD = 8;
export const DEFAULT_BULK_FETCH_LIMIT = 1024;
export const DEFAULT_MAX_REQUEST_NODES = 2048;

export interface DiffOptions {
  /** Aborts between round trips (and is handed to `RemoteTree.exchange`). */
  readonly signal?: AbortSignal;
  /**
   * A differing node whose remote side holds at most this many entries has its entries
   * fetched instead of its children's hashes: one entry (key + 16-byte digest) costs about as
   * much as two or three child hashes, so descending further stops paying off around here.
   * @default 8
   */
  readonly fetchThreshold?: number;
  /**
   * When the local side holds nothing under a differing node, every remote entry there
   * differs: fetch them all at once if there are at most this many, rather than descending.
   * @default 1024
   */
  readonly bulkFetchLimit?: number;
  /**
   * Most nodes one request asks about (each child of a children query counts, as does each
   * segment of an entries query). Bounds the work one request costs the remote side (and the
   * local side when the reply arrives), which runs on their event loops, at the price of more
   * round trips when much differs. At most MAX_REQUEST_NODES (65536).
   * @default 2048
   */
  readonly maxRequestNodes?: number;
}

/** A key held differently by the two sides. */
export interface KeyDifference {
  readonly key: Uint8Array;
  /** The local entry digest; undefined when only the remote holds the key. */
  readonly local: Uint8Array | undefined;
  /** The remote entry digest; undefined when only the local tree holds the key. */
  readonly remote: Uint8Array | undefined;
}

/** What an exchange found and what it cost. */
export interface TreeDiff {
  /** Every key whose digests differ or that one side lacks, each once, in no particular order. */
  readonly differences: KeyDifference[];
  /** Request bytes handed to `exchange`. */
  readonly bytesSent: number;
  /** Reply bytes received from `exchange`. */
  readonly bytesReceived: number;
  readonly roundTrips: number;
  /** Remote node hashes received and compared. */
  readonly nodesCompared: number;
  /** Remote entries received. */
  readonly entriesReceived: number;
}

interface Pending {
  readonly level: number;
  readonly index: number;
  readonly localCount: number;
  readonly remoteCount: number;
}

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new InvalidMerkleOptionsError(`${name} must be an integer >= 1, got ${describe(value)}`);
  }
  return value;
}

function sameNode(local: NodeSpan, at: number, remote: WireNode): boolean {
  const count = local.counts[at]!;
  if (count !== remote.count) return false;
  if (count === 0) return true;
  const h = local.hashes;
  const from = local.offset + at * DIGEST_BYTES;
  for (let i = 0; i < DIGEST_BYTES; i++) {
    if (h[from + i] !== remote.hash.charCodeAt(i)) return false;
  }
  return true;
}

function push(queue: Map<number, number[]>, level: number, index: number): void {
  let list = queue.get(level);
  if (list === undefined) {
    list = [];
    queue.set(level, list);
  }
  list.push(index);
}

/**
 * Compares `local` with `remote` (a tree of the same shape elsewhere) and returns the keys that
 * differ. Round trips: one for the roots, then about one per level descended. Throws
 * MerkleProtocolError on a malformed reply, and whatever `exchange` throws.
 */
export async function diffTrees(
  local: MerkleTree,
  remote: RemoteTree,
  options: DiffOptions = {},
): Promise<TreeDiff> {
  const fetchThreshold = positiveInteger(
    options.fetchThreshold,
    "fetchThreshold",
    DEFAULT_FETCH_THRESHOLD,
  );
  const bulkFetchLimit = positiveInteger(
    options.bulkFetchLimit,
    "bulkFetchLimit",
    DEFAULT_BULK_FETCH_LIMIT,
  );
  const maxRequestNodes = positiveInteger(
    options.maxRequestNodes,
    "maxRequestNodes",
    DEFAULT_MAX_REQUEST_NODES,
  );
  if (maxRequestNodes > MAX_REQUEST_NODES) {
    throw new InvalidMerkleOptionsError(
      `maxRequestNodes must be at most ${MAX_REQUEST_NODES}, got ${maxRequestNodes}`,
    );
  }
  const signal = options.signal;
  const { fanout, maxLevel } = local.options;
  const differences: KeyDifference[] = [];
  let bytesSent = 0;
  let bytesReceived = 0;
  let roundTrips = 0;
  let nodesCompared = 0;
  let entriesReceived = 0;

  const send = async (queries: Query[]) => {
    signal?.throwIfAborted();
    const request = encodeRequest(local.shapeId, queries);
    const reply = await remote.exchange(request, signal);
    bytesSent += request.length;
    bytesReceived += reply.length;
    roundTrips++;
    return decodeReply(reply, queries, fanout);
  };

  const onlyLocal = (level: number, index: number) => {
    for (const [k, d] of local.entriesUnder(level, index)) {
      differences.push({ key: latin1Bytes(k), local: latin1Bytes(d), remote: undefined });
    }
  };

  const compareEntries = (level: number, index: number, remoteEntries: readonly WireEntry[]) => {
    entriesReceived += remoteEntries.length;
    const mine = new Map(local.entriesUnder(level, index));
    const seen = new Set<string>();
    for (const [k, d] of remoteEntries) {
      if (seen.has(k)) throw new MerkleProtocolError("a reply lists the same key twice");
      seen.add(k);
      const own = mine.get(k);
      if (own === undefined) {
        differences.push({ key: latin1Bytes(k), local: undefined, remote: latin1Bytes(d) });
        continue;
      }
      mine.delete(k);
      if (own !== d) {
        differences.push({ key: latin1Bytes(k), local: latin1Bytes(own), remote: latin1Bytes(d) });
      }
    }
    for (const [k, d] of mine) {
      differences.push({ key: latin1Bytes(k), local: latin1Bytes(d), remote: undefined });
    }
  };

  const [rootReply] = await send([{ kind: QueryKind.Nodes, level: 0, indexes: [0] }]);
  const remoteRoot = rootReply?.kind === QueryKind.Nodes ? rootReply.nodes[0] : undefined;
  if (remoteRoot === undefined) throw new MerkleProtocolError("no root in the reply");
  nodesCompared++;
  let frontier: Pending[] = [];
  const root = local.nodeSpan(0, 0);
  if (!sameNode(root, 0, remoteRoot)) {
    frontier.push({
      level: 0,
      index: 0,
      localCount: root.counts[0]!,
      remoteCount: remoteRoot.count,
    });
  }

  const toFetch = new Map<number, number[]>();
  const toDescend = new Map<number, number[]>();
  for (;;) {
    for (const p of frontier) {
      if (p.remoteCount === 0) onlyLocal(p.level, p.index);
      else if (
        p.level === maxLevel ||
        p.remoteCount <= fetchThreshold ||
        (p.localCount === 0 && p.remoteCount <= bulkFetchLimit)
      ) {
        push(toFetch, p.level, p.index);
      } else {
        push(toDescend, p.level, p.index);
      }
    }
    frontier = [];

    // One request with as much as the node budget allows; the rest waits for the next one.
    const queries: Query[] = [];
    let budget = Math.max(maxRequestNodes, fanout);
    const take = (queue: Map<number, number[]>, kind: QueryKind, cost: number) => {
      for (const [level, list] of [...queue].sort((a, b) => a[0] - b[0])) {
        const n = Math.min(list.length, Math.floor(budget / cost));
        if (n === 0) return;
        list.sort((a, b) => a - b);
        queries.push({ kind, level, indexes: list.splice(0, n) });
        budget -= n * cost;
        if (list.length === 0) queue.delete(level);
      }
    };
    take(toFetch, QueryKind.Entries, 1);
    take(toDescend, QueryKind.Children, fanout);
    if (queries.length === 0) break;

    const results = await send(queries);
    for (let q = 0; q < queries.length; q++) {
      const query = queries[q]!;
      const result = results[q]!;
      if (result.kind === QueryKind.Entries) {
        const answered = result.segments.length;
        for (let i = 0; i < answered; i++) {
          compareEntries(query.level, query.indexes[i]!, result.segments[i]!);
        }
        for (let i = answered; i < query.indexes.length; i++) {
          push(toFetch, query.level, query.indexes[i]!);
        }
        continue;
      }
      nodesCompared += result.nodes.length;
      for (let i = 0; i < query.indexes.length; i++) {
        const parent = query.indexes[i]!;
        const mine = local.childSpan(query.level, parent);
        for (let j = 0; j < fanout; j++) {
          const theirs = result.nodes[i * fanout + j]!;
          if (sameNode(mine, j, theirs)) continue;
          frontier.push({
            level: query.level + 1,
            index: parent * fanout + j,
            localCount: mine.counts[j]!,
            remoteCount: theirs.count,
          });
        }
      }
    }
  }
  return { differences, bytesSent, bytesReceived, roundTrips, nodesCompared, entriesReceived };
}
