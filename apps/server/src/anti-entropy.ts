/**
 * Anti-entropy: the background repair that heals what read repair and hinted handoff miss
 * (a replica that was down with handoff off, a lost hint, a key nobody reads).
 *
 * Replica groups. The ring splits into arcs, each replicated by N nodes. A node keeps one
 * @distkv/merkle tree per *replica group*: the arcs that exactly the same set of nodes
 * replicates (with 3 nodes and N = 3 that is one group, the whole ring; with 5 nodes at most
 * C(5,3) = 10). Every member of a group builds the same tree shape over the same arcs, so two
 * members can compare trees directly. A group is named by its sorted replica ids plus a digest
 * of its arcs; a peer whose ring places the arcs differently refuses the exchange.
 *
 * Keeping the trees current. At start the module scans the local data once and builds every
 * tree (in the background; until then it answers exchanges with UNAVAILABLE). Afterwards the
 * node calls `recordWrite(key, storedBytes)` after every change of a stored sibling set (or
 * `undefined` after a delete): the key's latest bytes wait in a map and are applied in a
 * batch at most `DIRTY_FLUSH_MS` later, or at once before anything reads the trees (serving
 * an exchange, a round, `digests()`), so a key written many times meanwhile (a hot key) costs
 * one leaf update, and none runs on the write's path. A leaf update is O(1) (XOR of a SHA-256
 * entry digest) and inner hashes are recomputed lazily (about 2-3 µs per update here; applied
 * on every write they were 7.6% of a node's busy CPU under YCSB workload A). When the ring changes, the
 * next round rebuilds all trees from a fresh scan (ring changes are rare, and a scan is simpler
 * and safer than moving entries between groups); writes that arrive during a scan are queued
 * and applied on top of it.
 *
 * A round. For each group, for each other live replica: compare trees (only the hashes of
 * differing subtrees and the entries of small differing segments travel), then repair each
 * differing key both ways: pull the peer's sibling set with `replica_read` and merge it locally
 * (vclock sync), push the merged set with `replica_write` (the peer syncs it too). Since sync
 * is commutative, both sides then hold the same set, so their trees agree. Rounds run every
 * `intervalMs` (jittered) and on demand (ClusterService.Repair); one at a time.
 *
 * Tombstone GC. A delete leaves a tombstone-only sibling set; purging it too early would let
 * a replica that still holds the deleted value resurrect it through anti-entropy. The rule: a
 * tombstone is purged only when (1) its newest tombstone is older than `tombstoneGraceMs` by
 * the clock of *every* replica, (2) every replica of its group holds exactly the same version
 * (same entry digest), and (3) the ring is stable (nobody joining or leaving). After a round
 * in which this node compared the group successfully with every other replica, it asks each
 * of them to confirm its candidates (`tombstone_check`: same digest, tombstone only, past the
 * grace period by their own clock), then asks each to purge the confirmed ones
 * (`tombstone_purge`: delete only if the stored version is still exactly that one), then
 * purges its own copies the same way. A write that races with the purge changes the version
 * and keeps the key. A replica that misses the purge keeps its tombstone, which the next round
 * copies back to the others (harmless) and purges again.
 *
 * What the grace period must cover (operators: size it above all of these): the hint max age
 * (hints older than it are dropped, and the server refuses a max age at or above the grace),
 * the largest clock skew between nodes (a coordinator whose clock lags stamps tombstones as
 * older than they are), and any client holding a context across it. A replica that is down
 * blocks the purge (it cannot confirm), so downtime is covered by rule (2). Not covered here: a
 * node displaced from a range by a join keeps its old copies until ClusterService.Cleanup runs
 * on it (Handover.cleanup); if it became a replica again (the joiner leaves) before that and
 * after a purge, anti-entropy could spread one of them back.
 */
import { createHash } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  diffTrees,
  entryDigest,
  isMerkleProtocolError,
  isMerkleShapeMismatchError,
  type KeyDifference,
  MerkleTree,
  type RemoteTree,
} from "@distkv/merkle";
import { type ReplicaRange, tokenOf } from "@distkv/ring";
import {
  type InitOf,
  messageOf,
  type PeerRequestOf,
  type PeerResponseOf,
  type RepairResponseSchema,
  type TombstoneEntry,
  type TreeRef,
} from "@distkv/rpc";
import { createCodec, isPurgeable, isTombstoneOnly, type SiblingSet } from "@distkv/vclock";

// ---------------------------------------------------------------- interfaces the node wires

/** One stored entry: a user key and its encoded sibling set (@distkv/vclock). */
export interface StoredEntry {
  readonly key: Uint8Array;
  readonly siblings: Uint8Array;
}

/** The node's local data, as anti-entropy needs it. */
export interface AntiEntropyStore {
  /**
   * Up to about `maxEntries` stored entries in key order, after `afterKey` (exclusive;
   * undefined: from the first key). `done` once the scan reached the end; a page that is not
   * done holds at least one entry.
   */
  scan(
    afterKey: Uint8Array | undefined,
    maxEntries: number,
  ): Promise<{ readonly entries: readonly StoredEntry[]; readonly done: boolean }>;
  /** The encoded sibling set stored for `key`, or undefined. */
  read(key: Uint8Array): Promise<Uint8Array | undefined>;
  /**
   * Merges an encoded sibling set into the stored one (vclock `sync`, plus the node's
   * conflict policy) and resolves to the encoding now stored. Must call `recordWrite` like
   * any other write (anti-entropy records it again; that is idempotent).
   */
  merge(key: Uint8Array, siblings: Uint8Array): Promise<Uint8Array>;
  /**
   * Deletes `key` if and only if its stored encoding is still byte-for-byte `expected`,
   * atomically with respect to other writes of the key (under the same per-key lock).
   * Resolves to whether it deleted.
   */
  purge(key: Uint8Array, expected: Uint8Array): Promise<boolean>;
}

/** The ring as anti-entropy needs it (a @distkv/ring HashRing fits). */
export interface AntiEntropyRing {
  /** Every arc of the ring with its first `n` distinct replicas. */
  replicaRanges(n: number): readonly ReplicaRange[];
}

/** Membership as anti-entropy needs it. */
export interface AntiEntropyCluster {
  readonly localId: string;
  /** N, the replication factor. */
  readonly replicas: number;
  /** The ring that places replicas now. */
  ring(): AntiEntropyRing;
  /** Whether a call to the node may succeed (not dead, not left); the local node is alive. */
  isAlive(nodeId: string): boolean;
  /**
   * False while ranges are moving (a node is joining or leaving). Rounds still compare and
   * repair then, but no tombstone is purged.
   */
  isStable(): boolean;
}

/** The peer call kinds anti-entropy uses. */
export type AntiEntropyCallKind =
  | "merkleExchange"
  | "tombstoneCheck"
  | "tombstonePurge"
  | "replicaRead"
  | "replicaWrite"
  | "repair";

/** Calls another node over the peer channel (PeerClient.call, with liveness bookkeeping). */
export interface AntiEntropyPeers {
  call<K extends AntiEntropyCallKind>(
    nodeId: string,
    kind: K,
    request: InitOf<PeerRequestOf<K>>,
    options: { readonly timeoutMs: number; readonly signal: AbortSignal },
  ): Promise<PeerResponseOf<K>>;
}

export interface AntiEntropyLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface AntiEntropyDeps {
  readonly cluster: AntiEntropyCluster;
  readonly store: AntiEntropyStore;
  readonly peers: AntiEntropyPeers;
}

// ---------------------------------------------------------------- options

/** Default time between two periodic rounds (each round is jittered by up to ±10%). */
export const DEFAULT_ANTI_ENTROPY_INTERVAL_MS = 60_000;
/** Default age past which a tombstone every replica holds may be purged: one day. */
export const DEFAULT_TOMBSTONE_GRACE_MS = 24 * 3600 * 1000;
/** Default deadline of each peer call of a round. */
export const DEFAULT_ANTI_ENTROPY_CALL_TIMEOUT_MS = 10_000;
/** Default keys repaired at once per exchange. */
export const DEFAULT_REPAIR_CONCURRENCY = 16;
/** Default most tombstones one group may purge per round. */
export const DEFAULT_MAX_PURGES_PER_ROUND = 1000;
/**
 * The tree shape of every group. Part of the node-to-node protocol: every node of a cluster
 * must use the same (trees of different shapes refuse to compare). 16^3 = 4096 leaves, about
 * 100 KB per group before entries.
 */
export const ANTI_ENTROPY_TREE_FANOUT = 16;
export const ANTI_ENTROPY_TREE_DEPTH = 3;
/** Deadline of a round run on another node for ClusterService.Repair (the peer channel's cap). */
export const REMOTE_ROUND_TIMEOUT_MS = 300_000;
/** Entries per page of the startup scan. */
const SCAN_PAGE_ENTRIES = 1024;
/** Longest a recorded write waits before it is applied to the trees (see the file comment). */
const DIRTY_FLUSH_MS = 200;
/** Tombstones per tombstone_check / tombstone_purge call. */
const TOMBSTONE_BATCH = 256;

export interface AntiEntropyOptions {
  /**
   * Time between periodic rounds; each wait is jittered by ±10% so nodes do not align.
   * 0 disables periodic rounds (Repair still runs them).
   * @default 60000
   */
  readonly intervalMs?: number;
  /** @default 86400000 (one day). See the file comment for what it must cover. */
  readonly tombstoneGraceMs?: number;
  /** @default 10000 */
  readonly callTimeoutMs?: number;
  /** @default 16 */
  readonly repairConcurrency?: number;
  /** @default 1000 */
  readonly maxPurgesPerRound?: number;
  /**
   * Wall clock in ms since the epoch, for the grace period (the node passes its skewed clock
   * in clock-skew tests).
   * @default Date.now
   */
  readonly now?: () => number;
  /** @default silent */
  readonly logger?: AntiEntropyLogger;
}

interface ResolvedOptions {
  readonly intervalMs: number;
  readonly tombstoneGraceMs: number;
  readonly callTimeoutMs: number;
  readonly repairConcurrency: number;
  readonly maxPurgesPerRound: number;
  readonly now: () => number;
  readonly logger: AntiEntropyLogger;
}

const SILENT: AntiEntropyLogger = { debug() {}, info() {}, warn() {} };

function nonNegative(value: unknown, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new RangeError(`anti-entropy ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** Validates the options and fills in the defaults. Throws RangeError naming the field. */
export function resolveAntiEntropyOptions(options: AntiEntropyOptions = {}): ResolvedOptions {
  return Object.freeze({
    intervalMs: nonNegative(options.intervalMs, "intervalMs", DEFAULT_ANTI_ENTROPY_INTERVAL_MS),
    tombstoneGraceMs: nonNegative(
      options.tombstoneGraceMs,
      "tombstoneGraceMs",
      DEFAULT_TOMBSTONE_GRACE_MS,
    ),
    callTimeoutMs: nonNegative(
      options.callTimeoutMs,
      "callTimeoutMs",
      DEFAULT_ANTI_ENTROPY_CALL_TIMEOUT_MS,
      1,
    ),
    repairConcurrency: nonNegative(
      options.repairConcurrency,
      "repairConcurrency",
      DEFAULT_REPAIR_CONCURRENCY,
      1,
    ),
    maxPurgesPerRound: nonNegative(
      options.maxPurgesPerRound,
      "maxPurgesPerRound",
      DEFAULT_MAX_PURGES_PER_ROUND,
    ),
    now: options.now ?? Date.now,
    logger: options.logger ?? SILENT,
  });
}

// ---------------------------------------------------------------- reports

/** What a round did so far (the fields of RepairResponse). */
export interface RepairReport {
  nodeId: string;
  rangesTotal: number;
  rangesCompared: number;
  peersCompared: number;
  peersFailed: number;
  keysDiffering: number;
  keysRepaired: number;
  bytesExchanged: number;
  treeBytes: number;
  tombstonesPurged: number;
  elapsedSeconds: number;
  done: boolean;
  failures: string[];
}

/** A RepairReport as the RepairResponse message. */
export function toRepairResponse(r: RepairReport): MessageInitShape<typeof RepairResponseSchema> {
  return {
    nodeId: r.nodeId,
    rangesTotal: r.rangesTotal,
    rangesCompared: r.rangesCompared,
    peersCompared: r.peersCompared,
    peersFailed: r.peersFailed,
    keysDiffering: BigInt(r.keysDiffering),
    keysRepaired: BigInt(r.keysRepaired),
    bytesExchanged: BigInt(r.bytesExchanged),
    treeBytes: BigInt(r.treeBytes),
    tombstonesPurged: BigInt(r.tombstonesPurged),
    elapsedSeconds: r.elapsedSeconds,
    done: r.done,
    failures: [...r.failures],
  };
}

function fromRepairResponse(m: PeerResponseOf<"repair">): RepairReport {
  return {
    nodeId: m.nodeId,
    rangesTotal: m.rangesTotal,
    rangesCompared: m.rangesCompared,
    peersCompared: m.peersCompared,
    peersFailed: m.peersFailed,
    keysDiffering: Number(m.keysDiffering),
    keysRepaired: Number(m.keysRepaired),
    bytesExchanged: Number(m.bytesExchanged),
    treeBytes: Number(m.treeBytes),
    tombstonesPurged: Number(m.tombstonesPurged),
    elapsedSeconds: m.elapsedSeconds,
    done: m.done,
    failures: [...m.failures],
  };
}

// ---------------------------------------------------------------- layout: groups on the ring

interface Group {
  /** Sorted replica ids joined by NUL: the name peers look the group up by. */
  readonly name: string;
  readonly replicas: readonly string[];
  /** Digest of the group's arcs, so two nodes know they mean the same ranges. */
  readonly digest: Uint8Array;
  readonly tree: MerkleTree;
  /** Tombstone-only keys (latin1) -> newest tombstone timestamp: the GC candidates. */
  readonly tombstones: Map<string, number>;
}

interface Layout {
  /** Changes whenever the arcs or their replicas change. */
  readonly signature: string;
  readonly groups: ReadonlyMap<string, Group>;
  /** Arc ends, ascending, and the local group of each arc (undefined: not replicated here). */
  readonly ends: readonly bigint[];
  readonly arcGroups: readonly (Group | undefined)[];
}

const utf8 = new TextEncoder();

function u64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v);
  return b;
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
}

function fromLatin1(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "latin1"));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function newTree(): MerkleTree {
  return new MerkleTree({
    tokenOf,
    fanout: ANTI_ENTROPY_TREE_FANOUT,
    depth: ANTI_ENTROPY_TREE_DEPTH,
  });
}

/** Where the local groups lie on a ring, before any tree is built. */
interface Plan {
  readonly signature: string;
  readonly ends: bigint[];
  /** Per arc: the name of its local group, or undefined. */
  readonly names: (string | undefined)[];
  readonly groups: Map<string, { replicas: string[]; arcs: Uint8Array[] }>;
}

function planOf(ring: AntiEntropyRing, replicas: number, localId: string): Plan {
  const arcs = [...ring.replicaRanges(replicas)].sort((a, b) =>
    a.range.end < b.range.end ? -1 : a.range.end > b.range.end ? 1 : 0,
  );
  const signature = createHash("sha256");
  const groups = new Map<string, { replicas: string[]; arcs: Uint8Array[] }>();
  const names: (string | undefined)[] = [];
  for (const arc of arcs) {
    const sorted = [...arc.replicas].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const bounds = Uint8Array.of(...u64(arc.range.start), ...u64(arc.range.end));
    signature.update(bounds);
    signature.update(utf8.encode(`${sorted.join("\0")}\n`));
    if (!sorted.includes(localId)) {
      names.push(undefined);
      continue;
    }
    const name = sorted.join("\0");
    let g = groups.get(name);
    if (g === undefined) {
      g = { replicas: sorted, arcs: [] };
      groups.set(name, g);
    }
    g.arcs.push(bounds);
    names.push(name);
  }
  return { signature: signature.digest("hex"), ends: arcs.map((a) => a.range.end), names, groups };
}

/** The groups of a plan, with empty trees. */
function layoutOf(plan: Plan): Layout {
  const groups = new Map<string, Group>();
  for (const [name, g] of plan.groups) {
    const digest = createHash("sha256");
    for (const a of g.arcs) digest.update(a);
    groups.set(name, {
      name,
      replicas: g.replicas,
      digest: new Uint8Array(digest.digest()).subarray(0, 16),
      tree: newTree(),
      tombstones: new Map(),
    });
  }
  return {
    signature: plan.signature,
    groups,
    ends: plan.ends,
    arcGroups: plan.names.map((n) => (n === undefined ? undefined : groups.get(n))),
  };
}

/** The local group holding `token`, if this node replicates it. */
function groupOf(layout: Layout, token: bigint): Group | undefined {
  const ends = layout.ends;
  if (ends.length === 0) return undefined;
  // A token belongs to the first arc whose end is >= it, wrapping to the first arc.
  let a = 0;
  let b = ends.length;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (ends[mid]! < token) a = mid + 1;
    else b = mid;
  }
  return layout.arcGroups[a === ends.length ? 0 : a];
}

// ---------------------------------------------------------------- the component

/** Decodes without copying values: only the tombstone flags and timestamps are read. */
const inspect = createCodec({ copyValues: false });

/** A write recorded for the trees (see recordWrite and apply). */
interface Recorded {
  readonly siblings: Uint8Array | undefined;
  readonly tombstoneMs: number | undefined;
}

function newestTombstoneMs(set: SiblingSet<Uint8Array>): number {
  let newest = 0;
  for (const s of set.siblings) newest = Math.max(newest, s.timestampMs);
  return newest;
}

/** A failure of one comparison (group x peer), aggregated per peer in the report. */
interface PeerFailure {
  ranges: number;
  message: string;
}

/**
 * Keeps per-replica-group Merkle trees of the local data, compares them with the other
 * replicas periodically and on demand, repairs what differs both ways, and purges tombstones
 * every replica holds past the grace period. See the file comment.
 */
/** Quiet time after a ring change before the trees are rebuilt. */
const RING_SETTLE_MS = 300;

export class AntiEntropy {
  private readonly options: ResolvedOptions;
  /** Writes recorded and not yet applied to the trees (latin1 key -> stored bytes). */
  private dirty = new Map<string, Recorded>();
  private dirtyTimer: NodeJS.Timeout | undefined;
  private layout: Layout | undefined;
  private layoutStale = false;
  private building: Promise<Layout> | undefined;
  /** Writes seen while a build scans; applied on top of the scan. */
  private pending: Map<string, Recorded> | undefined;
  private roundChain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private rebuildTimer: NodeJS.Timeout | undefined;
  private started = false;
  private readonly stopController = new AbortController();
  /** The last finished round's report (undefined before the first). */
  lastRound: RepairReport | undefined;

  constructor(
    private readonly deps: AntiEntropyDeps,
    options: AntiEntropyOptions = {},
  ) {
    this.options = resolveAntiEntropyOptions(options);
  }

  /** Whether the trees are built (exchanges are answered). */
  get ready(): boolean {
    return this.layout !== undefined && this.pending === undefined;
  }

  /** Builds the trees in the background and schedules periodic rounds. Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.build().catch((e) => {
      if (!this.stopController.signal.aborted) {
        this.options.logger.warn("anti-entropy: building the Merkle trees failed", {
          error: messageOf(e),
        });
      }
    });
    this.schedule();
  }

  /** Stops periodic rounds and aborts the one in progress; resolves when it has ended. */
  async stop(): Promise<void> {
    this.stopController.abort(new Error("anti-entropy is stopping"));
    if (this.dirtyTimer !== undefined) clearTimeout(this.dirtyTimer);
    this.dirtyTimer = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.rebuildTimer !== undefined) clearTimeout(this.rebuildTimer);
    this.rebuildTimer = undefined;
    await this.roundChain.catch(() => {});
    await this.building?.catch(() => {});
  }

  /**
   * The hook: call after every change of a stored sibling set, with the bytes now stored
   * (`undefined` when the key was deleted), inside the key's write lock so calls for one key
   * arrive in the order of the writes. Synchronous, non-blocking, about 2-3 µs.
   */
  recordWrite(
    key: Uint8Array,
    siblings: Uint8Array | undefined,
    set?: SiblingSet<Uint8Array>,
  ): void {
    // With the decoded set at hand, whether it is all tombstones is known now, and applying
    // the write later needs no decode (which was a third of the trees' upkeep per write).
    const entry: Recorded = {
      siblings,
      tombstoneMs:
        set === undefined ? undefined : isTombstoneOnly(set) ? newestTombstoneMs(set) : -1,
    };
    if (this.pending !== undefined) {
      this.pending.set(latin1(key), entry);
      return;
    }
    if (this.layout === undefined) return;
    this.dirty.set(latin1(key), entry);
    if (this.dirtyTimer === undefined) {
      this.dirtyTimer = setTimeout(() => this.flushDirty(), DIRTY_FLUSH_MS);
      this.dirtyTimer.unref();
    }
  }

  /** Applies the writes recorded since the last flush to the trees. */
  private flushDirty(): void {
    if (this.dirtyTimer !== undefined) clearTimeout(this.dirtyTimer);
    this.dirtyTimer = undefined;
    if (this.dirty.size === 0) return;
    const dirty = this.dirty;
    this.dirty = new Map();
    const layout = this.layout;
    if (layout === undefined) return;
    for (const [k, v] of dirty) this.apply(layout, fromLatin1(k), v.siblings, v.tombstoneMs);
  }

  /**
   * The ring changed: the trees are rebuilt from a scan shortly after (changes come in bursts
   * while gossip converges), so that this node both starts and answers comparisons with trees
   * of the ring the others use; a round that starts earlier rebuilds first.
   */
  ringChanged(): void {
    this.layoutStale = true;
    if (!this.started || this.stopController.signal.aborted) return;
    if (this.rebuildTimer !== undefined) clearTimeout(this.rebuildTimer);
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = undefined;
      this.currentLayout().catch((e: unknown) => {
        if (!this.stopController.signal.aborted) {
          this.options.logger.warn("anti-entropy: rebuilding the Merkle trees failed", {
            error: messageOf(e),
          });
        }
      });
    }, RING_SETTLE_MS);
  }

  /**
   * Runs one round now (after the one in progress, if any) and resolves to its report;
   * `onProgress` gets a snapshot after each comparison. Rejects only when aborted.
   */
  runRound(
    options: { signal?: AbortSignal; onProgress?: (r: RepairReport) => void } = {},
  ): Promise<RepairReport> {
    const run = this.roundChain.then(() => this.round(options.signal, options.onProgress));
    this.roundChain = run.catch(() => {});
    return run;
  }

  /**
   * ClusterService.Repair: streams the progress of a round on this node (`nodeId` empty or
   * this node), or, for another node, runs the round there over the peer channel and yields
   * its final report. The last message has `done` set. `signal` (the call's) only stops the
   * stream: the round itself runs to its end even if the client goes away or its deadline
   * passes, as a repair that was asked for is worth finishing.
   */
  async *repair(
    request: { readonly nodeId: string },
    signal: AbortSignal,
  ): AsyncGenerator<MessageInitShape<typeof RepairResponseSchema>, void, undefined> {
    const { cluster } = this.deps;
    const target = request.nodeId === "" ? cluster.localId : request.nodeId;
    if (target !== cluster.localId) {
      if (!cluster.isAlive(target)) {
        throw new ConnectError(
          `node ${JSON.stringify(target)} is not a live member of the cluster`,
          Code.FailedPrecondition,
        );
      }
      const res = await this.deps.peers.call(
        target,
        "repair",
        { nodeId: target },
        { timeoutMs: REMOTE_ROUND_TIMEOUT_MS, signal },
      );
      yield toRepairResponse(fromRepairResponse(res));
      return;
    }
    // Progress snapshots are queued by the round and yielded as they come.
    const queue: RepairReport[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    let failure: unknown;
    signal.addEventListener("abort", () => wake?.(), { once: true });
    this.runRound({
      onProgress: (r) => {
        queue.push(r);
        wake?.();
      },
    })
      .catch((e) => {
        failure = e;
      })
      .finally(() => {
        finished = true;
        wake?.();
      });
    for (;;) {
      signal.throwIfAborted();
      const r = queue.shift();
      if (r !== undefined) {
        yield toRepairResponse(r);
        if (r.done) return;
        continue;
      }
      if (finished) {
        if (failure !== undefined) throw failure;
        return;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  }

  /** Root digest (hex) and entry count of every group's tree, by group name (tests, chaos checks). */
  digests(): Map<string, { hash: string; count: number }> {
    const out = new Map<string, { hash: string; count: number }>();
    this.flushDirty();
    for (const [name, g] of this.layout?.groups ?? []) {
      const root = g.tree.root();
      out.set(name, { hash: Buffer.from(root.hash).toString("hex"), count: root.count });
    }
    return out;
  }

  // ---- serving

  private groupFor(ref: TreeRef | undefined): Group {
    this.flushDirty();
    const layout = this.layout;
    if (layout === undefined || this.pending !== undefined) {
      throw new ConnectError(
        `${this.deps.cluster.localId} is still building its Merkle trees`,
        Code.Unavailable,
      );
    }
    if (ref === undefined) throw new ConnectError("no tree named", Code.InvalidArgument);
    const group = layout.groups.get(ref.replicas.join("\0"));
    if (group === undefined || !sameBytes(group.digest, ref.rangesDigest)) {
      throw new ConnectError(
        `${this.deps.cluster.localId} does not replicate the ranges of [${ref.replicas.join(", ")}] as the caller's ring places them (ring views differ)`,
        Code.FailedPrecondition,
      );
    }
    return group;
  }

  /** Peer kind `merkleExchange`: answers one round trip of a tree comparison. */
  serveMerkleExchange(
    req: PeerRequestOf<"merkleExchange">,
  ): InitOf<PeerResponseOf<"merkleExchange">> {
    const group = this.groupFor(req.tree);
    try {
      return { reply: group.tree.answer(req.query) };
    } catch (e) {
      if (isMerkleProtocolError(e) || isMerkleShapeMismatchError(e)) {
        throw new ConnectError(e.message, Code.InvalidArgument);
      }
      throw e;
    }
  }

  /**
   * Peer kind `repair`: runs a round here (ClusterService.Repair aimed at this node) and
   * answers with its report. Like `repair`, the round runs to its end even if the caller
   * gives up.
   */
  async serveRepair(_req: PeerRequestOf<"repair">): Promise<InitOf<PeerResponseOf<"repair">>> {
    return toRepairResponse(await this.runRound());
  }

  /** Whether `stored` is exactly `digest`, tombstones only, past the grace period here. */
  private purgeable(key: Uint8Array, stored: Uint8Array | undefined, digest: Uint8Array): boolean {
    if (stored === undefined || !sameBytes(entryDigest(key, stored), digest)) return false;
    let set: SiblingSet<Uint8Array>;
    try {
      set = inspect.decodeSiblingSet(stored);
    } catch {
      return false;
    }
    return (
      isTombstoneOnly(set) && isPurgeable(set, this.options.now(), this.options.tombstoneGraceMs)
    );
  }

  /** Peer kind `tombstoneCheck`: which of these tombstones this node holds, purgeable. */
  async serveTombstoneCheck(
    req: PeerRequestOf<"tombstoneCheck">,
  ): Promise<InitOf<PeerResponseOf<"tombstoneCheck">>> {
    this.groupFor(req.tree);
    const confirmed: boolean[] = [];
    for (const e of req.entries) {
      confirmed.push(this.purgeable(e.key, await this.deps.store.read(e.key), e.digest));
    }
    return { confirmed };
  }

  /** Peer kind `tombstonePurge`: deletes the named tombstones still held exactly. */
  async serveTombstonePurge(
    req: PeerRequestOf<"tombstonePurge">,
  ): Promise<InitOf<PeerResponseOf<"tombstonePurge">>> {
    this.groupFor(req.tree);
    return { purged: await this.purgeLocally(req.entries) };
  }

  /** Deletes each entry whose stored version is still exactly the one named. */
  private async purgeLocally(
    entries: readonly { readonly key: Uint8Array; readonly digest: Uint8Array }[],
  ): Promise<number> {
    let purged = 0;
    for (const e of entries) {
      const stored = await this.deps.store.read(e.key);
      if (!this.purgeable(e.key, stored, e.digest)) continue;
      if (await this.deps.store.purge(e.key, stored!)) {
        this.recordWrite(e.key, undefined);
        purged++;
      }
    }
    return purged;
  }

  // ---- trees

  /**
   * Puts a stored set into its group's tree and tombstone index. `tombstoneMs`: the newest
   * tombstone's time when the set is all tombstones, -1 when it holds a value, undefined when
   * unknown (the set is decoded to find out).
   */
  private apply(
    layout: Layout,
    key: Uint8Array,
    siblings: Uint8Array | undefined,
    tombstoneMs?: number,
  ): void {
    const group = groupOf(layout, tokenOf(key));
    if (group === undefined) return;
    const k = latin1(key);
    if (siblings === undefined) {
      group.tree.delete(key);
      group.tombstones.delete(k);
      return;
    }
    group.tree.set(key, siblings);
    let tomb = tombstoneMs;
    if (tomb === undefined) {
      try {
        const set = inspect.decodeSiblingSet(siblings);
        tomb = isTombstoneOnly(set) ? newestTombstoneMs(set) : -1;
      } catch (e) {
        this.options.logger.warn("anti-entropy: a stored sibling set does not decode", {
          error: messageOf(e),
        });
        tomb = -1;
      }
    }
    if (tomb >= 0) group.tombstones.set(k, tomb);
    else group.tombstones.delete(k);
  }

  /** Builds fresh trees for the current ring from a scan; writes during the scan queue up. */
  private build(): Promise<Layout> {
    this.building ??= (async () => {
      const { cluster, store } = this.deps;
      const signal = this.stopController.signal;
      this.layoutStale = false;
      const layout = layoutOf(planOf(cluster.ring(), cluster.replicas, cluster.localId));
      const pending = new Map<string, Recorded>();
      // Writes recorded so far are in the store, which the scan reads.
      this.flushDirty();
      this.pending = pending;
      const t0 = performance.now();
      let scanned = 0;
      try {
        let after: Uint8Array | undefined;
        for (;;) {
          signal.throwIfAborted();
          const page = await store.scan(after, SCAN_PAGE_ENTRIES);
          for (const e of page.entries) this.apply(layout, e.key, e.siblings);
          scanned += page.entries.length;
          if (page.done) break;
          const last = page.entries[page.entries.length - 1];
          if (last === undefined)
            throw new Error("the store returned an empty page before the end");
          after = last.key;
        }
        for (const [k, v] of pending) this.apply(layout, fromLatin1(k), v.siblings, v.tombstoneMs);
        this.layout = layout;
      } finally {
        if (this.pending === pending) this.pending = undefined;
      }
      this.options.logger.info("anti-entropy: Merkle trees built", {
        groups: layout.groups.size,
        keys: scanned,
        ms: Math.round(performance.now() - t0),
      });
      return layout;
    })().finally(() => {
      this.building = undefined;
    });
    return this.building;
  }

  /** The layout for the current ring, rebuilding the trees if the ring changed. */
  private async currentLayout(): Promise<Layout> {
    if (this.building !== undefined) await this.building;
    this.flushDirty();
    const { cluster } = this.deps;
    if (!this.layoutStale && this.layout !== undefined) {
      const plan = planOf(cluster.ring(), cluster.replicas, cluster.localId);
      if (plan.signature === this.layout.signature) return this.layout;
    }
    return this.build();
  }

  // ---- rounds

  private schedule(): void {
    const { intervalMs } = this.options;
    if (intervalMs === 0 || this.stopController.signal.aborted) return;
    const wait = Math.round(intervalMs * (0.9 + 0.2 * Math.random()));
    this.timer = setTimeout(() => {
      this.runRound()
        .then((r) => {
          if (r.keysRepaired > 0 || r.tombstonesPurged > 0 || r.peersFailed > 0) {
            this.options.logger.info("anti-entropy round", {
              ranges: r.rangesTotal,
              repaired: r.keysRepaired,
              purged: r.tombstonesPurged,
              failed: r.peersFailed,
              bytes: r.bytesExchanged,
            });
          }
        })
        .catch((e) => {
          if (!this.stopController.signal.aborted) {
            this.options.logger.warn("anti-entropy round failed", { error: messageOf(e) });
          }
        })
        .finally(() => this.schedule());
    }, wait);
    this.timer.unref();
  }

  private async round(
    callerSignal: AbortSignal | undefined,
    onProgress: ((r: RepairReport) => void) | undefined,
  ): Promise<RepairReport> {
    const signal =
      callerSignal === undefined
        ? this.stopController.signal
        : AbortSignal.any([callerSignal, this.stopController.signal]);
    signal.throwIfAborted();
    const { cluster } = this.deps;
    const t0 = performance.now();
    const layout = await this.currentLayout();
    const groups = [...layout.groups.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    const failed = new Map<string, PeerFailure>();
    const report: RepairReport = {
      nodeId: cluster.localId,
      rangesTotal: groups.length,
      rangesCompared: 0,
      peersCompared: 0,
      peersFailed: 0,
      keysDiffering: 0,
      keysRepaired: 0,
      bytesExchanged: 0,
      treeBytes: 0,
      tombstonesPurged: 0,
      elapsedSeconds: 0,
      done: false,
      failures: [],
    };
    const emit = () => {
      report.elapsedSeconds = (performance.now() - t0) / 1000;
      report.failures = [...failed].map(
        ([peer, f]) => `${peer} (${f.ranges} ranges): ${f.message}`,
      );
      onProgress?.({ ...report, failures: [...report.failures] });
    };
    const fail = (peer: string, message: string) => {
      report.peersFailed++;
      const f = failed.get(peer);
      if (f === undefined) failed.set(peer, { ranges: 1, message });
      else f.ranges++;
    };
    emit();
    for (const group of groups) {
      let everyPeer = true;
      for (const peer of group.replicas) {
        if (peer === cluster.localId) continue;
        if (!cluster.isAlive(peer)) {
          fail(peer, "down");
          everyPeer = false;
          continue;
        }
        try {
          const r = await this.exchange(group, peer, signal);
          report.peersCompared++;
          report.keysDiffering += r.differing;
          report.keysRepaired += r.repaired;
          report.treeBytes += r.treeBytes;
          report.bytesExchanged += r.treeBytes + r.repairBytes;
        } catch (e) {
          if (signal.aborted) throw e;
          fail(peer, messageOf(e));
          everyPeer = false;
        }
        emit();
      }
      // GC only after this round compared the group with every replica, on a stable ring.
      if (everyPeer && cluster.isStable() && this.layout === layout) {
        try {
          const gc = await this.collectGarbage(group, signal);
          report.tombstonesPurged += gc.purged;
          report.bytesExchanged += gc.bytes;
        } catch (e) {
          if (signal.aborted) throw e;
          this.options.logger.warn("anti-entropy: tombstone GC failed", { error: messageOf(e) });
        }
      }
      report.rangesCompared++;
      emit();
    }
    report.done = true;
    emit();
    this.lastRound = { ...report, failures: [...report.failures] };
    return this.lastRound;
  }

  private call<K extends AntiEntropyCallKind>(
    peer: string,
    kind: K,
    request: InitOf<PeerRequestOf<K>>,
    signal: AbortSignal,
  ): Promise<PeerResponseOf<K>> {
    return this.deps.peers.call(peer, kind, request, {
      timeoutMs: this.options.callTimeoutMs,
      signal,
    });
  }

  private refOf(group: Group): InitOf<TreeRef> {
    return { replicas: [...group.replicas], rangesDigest: group.digest };
  }

  /** Compares one group with one peer and repairs what differs, both ways. */
  private async exchange(
    group: Group,
    peer: string,
    signal: AbortSignal,
  ): Promise<{ differing: number; repaired: number; treeBytes: number; repairBytes: number }> {
    const tree = this.refOf(group);
    const remote: RemoteTree = {
      exchange: async (query, s) =>
        (await this.call(peer, "merkleExchange", { tree, query }, s ?? signal)).reply,
    };
    this.flushDirty(); // repairs with the previous peer changed keys here
    const diff = await diffTrees(group.tree, remote, { signal });
    const repaired = await this.repairKeys(peer, diff.differences, signal);
    return {
      differing: diff.differences.length,
      repaired: repaired.keys,
      treeBytes: diff.bytesSent + diff.bytesReceived,
      repairBytes: repaired.bytes,
    };
  }

  /**
   * Brings both sides of each differing key to the merge of the two: pull theirs and merge it
   * here, push the result there. Concurrent writes during the repair only add to the merge.
   */
  private async repairKeys(
    peer: string,
    differences: readonly KeyDifference[],
    signal: AbortSignal,
  ): Promise<{ keys: number; bytes: number }> {
    const { store } = this.deps;
    let keys = 0;
    let bytes = 0;
    let next = 0;
    const one = async (d: KeyDifference) => {
      const key = d.key;
      const [local, remote] = await Promise.all([
        store.read(key),
        d.remote === undefined
          ? Promise.resolve(undefined)
          : this.call(peer, "replicaRead", { key }, signal).then((r) => {
              bytes += key.length + r.siblings.length;
              return r.found ? r.siblings : undefined;
            }),
      ]);
      let wrote = false;
      let ours = local;
      if (remote !== undefined) {
        ours = await store.merge(key, remote);
        this.recordWrite(key, ours);
        if (local === undefined || !sameBytes(ours, local)) wrote = true;
      }
      if (ours !== undefined && (remote === undefined || !sameBytes(ours, remote))) {
        await this.call(peer, "replicaWrite", { key, siblings: ours }, signal);
        bytes += key.length + ours.length;
        wrote = true;
      }
      if (wrote) keys++;
    };
    const worker = async () => {
      while (next < differences.length) {
        signal.throwIfAborted();
        await one(differences[next++]!);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.options.repairConcurrency, differences.length) }, worker),
    );
    return { keys, bytes };
  }

  /**
   * Purges the group's tombstones that every replica confirms (same version, tombstones only,
   * past the grace period by its own clock): the peers first, then this node. See the file
   * comment for the rule.
   */
  private async collectGarbage(
    group: Group,
    signal: AbortSignal,
  ): Promise<{ purged: number; bytes: number }> {
    const { store, cluster } = this.deps;
    const { now, tombstoneGraceMs, maxPurgesPerRound } = this.options;
    const candidates: { key: Uint8Array; digest: Uint8Array }[] = [];
    const t = now();
    this.flushDirty();
    for (const [k, newest] of group.tombstones) {
      if (candidates.length >= maxPurgesPerRound) break;
      if (newest + tombstoneGraceMs > t) continue;
      const key = fromLatin1(k);
      const stored = await store.read(key);
      if (stored === undefined) continue;
      const digest = entryDigest(key, stored);
      if (this.purgeable(key, stored, digest)) candidates.push({ key, digest });
    }
    if (candidates.length === 0) return { purged: 0, bytes: 0 };
    const tree = this.refOf(group);
    const others = group.replicas.filter((id) => id !== cluster.localId);
    const confirmed = candidates.map(() => true);
    let bytes = 0;
    const size = (entries: readonly InitOf<TombstoneEntry>[]) =>
      entries.reduce((s, e) => s + (e.key?.length ?? 0) + (e.digest?.length ?? 0), 0);
    for (const peer of others) {
      for (let from = 0; from < candidates.length; from += TOMBSTONE_BATCH) {
        const batch = candidates.slice(from, from + TOMBSTONE_BATCH);
        const res = await this.call(peer, "tombstoneCheck", { tree, entries: batch }, signal);
        bytes += size(batch) + res.confirmed.length;
        if (res.confirmed.length !== batch.length) {
          throw new Error(
            `${peer} answered ${res.confirmed.length} confirmations for ${batch.length} tombstones`,
          );
        }
        res.confirmed.forEach((ok, i) => {
          if (!ok) confirmed[from + i] = false;
        });
      }
    }
    const purge = candidates.filter((_, i) => confirmed[i]);
    if (purge.length === 0) return { purged: 0, bytes };
    for (const peer of others) {
      for (let from = 0; from < purge.length; from += TOMBSTONE_BATCH) {
        const batch = purge.slice(from, from + TOMBSTONE_BATCH);
        try {
          await this.call(peer, "tombstonePurge", { tree, entries: batch }, signal);
          bytes += size(batch) + 4;
        } catch (e) {
          // It keeps those tombstones; a later round copies them back here and purges again.
          if (signal.aborted) throw e;
          this.options.logger.warn("anti-entropy: a peer did not purge tombstones", {
            peer,
            error: messageOf(e),
          });
        }
      }
    }
    return { purged: await this.purgeLocally(purge), bytes };
  }
}
