import { Code, ConnectError } from "@connectrpc/connect";
import type { Gossip } from "@distkv/gossip";
import { type HashRing, type TokenRange, tokenOf } from "@distkv/ring";
import { codeOf, messageOf, type StreamRangeRequest, type StreamRangeResponse } from "@distkv/rpc";
import { decodeSiblingSet } from "@distkv/vclock";
import type { Logger } from "./log.js";
import type { ClusterMembership } from "./membership.js";
import { type NodeState, writeNodeState } from "./node-state.js";
import type { PeerPool } from "./peers.js";
import type { NodeStorage } from "./storage.js";

/** Bytes of sibling sets per stream page. */
const PAGE_BYTES = 256 * 1024;
/** Keys scanned per stream page, matching or not (bounds the time of one request). */
const PAGE_SCAN = 4096;
/** Replica writes in flight while a leaving node hands its data over. */
const PUSH_CONCURRENCY = 16;
/** Wait between two attempts when a peer is not ready or not reachable. */
const RETRY_MS = 250;
/** How long a leaving node waits for its hint queue to drain before it leaves anyway. */
const HINT_DRAIN_MS = 30_000;
/**
 * How long the ring must have stayed the same before a cleanup may delete anything: time for
 * gossip to bring every node to the same ring (a node still on the old one would read from,
 * or write to, this node as a replica). Several gossip rounds of the `lan` preset.
 */
export const CLEANUP_SETTLE_MS = 10_000;

/** Progress of a cleanup (totals so far). */
export interface CleanupProgress {
  keysScanned: number;
  keysRemoved: number;
  bytesRemoved: number;
  elapsedSeconds: number;
  done: boolean;
}

/** Progress of the hand-over in progress (or the last one), for `status` and logs. */
export interface HandoverProgress {
  kind: "join" | "decommission";
  keysScanned: number;
  keysMoved: number;
  bytesMoved: number;
  peersDone: number;
  peersTotal: number;
  startedAtMs: number;
  finishedAtMs: number | undefined;
}

/** The ranges of a node, for testing many tokens quickly (binary search on the range ends). */
export class TokenRangeSet {
  private readonly ends: bigint[];
  private readonly starts: bigint[];
  private readonly wrap: TokenRange | undefined;
  private readonly full: boolean;

  constructor(ranges: readonly TokenRange[]) {
    const plain = ranges.filter((r) => r.start < r.end).sort((a, b) => (a.end < b.end ? -1 : 1));
    this.ends = plain.map((r) => r.end);
    this.starts = plain.map((r) => r.start);
    this.wrap = ranges.find((r) => r.start > r.end);
    this.full = ranges.some((r) => r.start === r.end);
  }

  contains(token: bigint): boolean {
    if (this.full) return true;
    if (this.wrap !== undefined && (token > this.wrap.start || token <= this.wrap.end)) return true;
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ends[mid]! < token) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.ends.length && this.starts[lo]! < token;
  }
}

/**
 * Writes this node coordinates, with their start times: a joining or leaving node's hand-over
 * may start once every write begun before this node saw the hand-over has finished (later ones
 * include the new owner as a pending replica).
 */
export class WriteTracker {
  private next = 0;
  private readonly started = new Map<number, number>();

  constructor(private readonly now: () => number = Date.now) {}

  begin(): () => void {
    const id = this.next++;
    this.started.set(id, this.now());
    return () => this.started.delete(id);
  }

  /** Whether every write that began at or before `ms` has finished. */
  drainedSince(ms: number): boolean {
    for (const t of this.started.values()) if (t <= ms) return false;
    return true;
  }
}

/** Spreads `bytes` over time so a hand-over stays under `bytesPerSecond` (0: unlimited). */
class RateLimiter {
  private readonly startedAt = performance.now();
  private sent = 0;

  constructor(private readonly bytesPerSecond: number) {}

  async take(bytes: number, signal: AbortSignal): Promise<void> {
    this.sent += bytes;
    if (this.bytesPerSecond <= 0) return;
    const dueMs = (this.sent / this.bytesPerSecond) * 1000;
    const waitMs = dueMs - (performance.now() - this.startedAt);
    if (waitMs > 1) await sleep(waitMs, signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const unhex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));

export interface HandoverInit {
  readonly localId: string;
  readonly dataDir: string;
  readonly replicas: number;
  readonly requestTimeoutMs: number;
  /** Streaming rate limit in bytes per second; 0 for none. */
  readonly rateBytesPerSecond: number;
  readonly gossip: Gossip;
  readonly membership: ClusterMembership;
  readonly peers: PeerPool;
  readonly storage: NodeStorage;
  readonly writes: WriteTracker;
  readonly log: Logger;
}

/**
 * Moves data when the ring changes, with the data flowing towards the new owners:
 *
 * - join: this node (phase `joining`) pulls, from every live node of the current ring, the
 *   stored keys that hash into the ranges it will replicate, page by page in key order, and
 *   merges them; then it turns `normal`. Writes made meanwhile reach it as a pending replica.
 * - decommission: this node turns `leaving`, then pushes each of its keys to the nodes that
 *   will replicate it once it is gone, waits for its hint queue to drain, and leaves.
 *
 * Both wait first at a barrier on every live node: that node sees the hand-over and has
 * finished the writes it began coordinating before it did, so no acknowledged write can slip
 * past the copy. Both resume from a per-peer key cursor after a failure or a restart (stored
 * in the node state file), and both are rate-limited.
 */
export class Handover {
  private progressValue: HandoverProgress | undefined;
  private cleaning = false;
  private readonly stopController = new AbortController();
  private cursors: Record<string, string>;

  constructor(
    private readonly init: HandoverInit,
    state: NodeState | undefined,
  ) {
    this.cursors = { ...(state?.cursors ?? {}) };
  }

  get progress(): HandoverProgress | undefined {
    return this.progressValue;
  }

  stop(): void {
    this.stopController.abort(new Error("the node is stopping"));
  }

  // ---- serving side

  /** The `stream_range` peer call: a barrier for the requester, then one page of matching data. */
  async serveStreamRange(
    req: StreamRangeRequest,
  ): Promise<Pick<StreamRangeResponse, "entries" | "lastKey" | "done" | "scanned">> {
    const { membership, writes, storage } = this.init;
    const requester = req.requesterNodeId;
    if (requester !== "") {
      const member = membership.member(requester);
      const phase = member?.phase;
      if (phase === "joining" || phase === "leaving") {
        const seenFor = membership.inPhaseForMs(requester, phase);
        if (seenFor === 0 || !writes.drainedSince(Date.now() - seenFor)) {
          throw new ConnectError(
            `${this.init.localId} does not yet see ${requester} ${phase} with its earlier writes finished; retry`,
            Code.FailedPrecondition,
          );
        }
      }
    }
    if (req.maxScanned === 0)
      return { entries: [], lastKey: new Uint8Array(), done: false, scanned: 0 };
    const ranges = new TokenRangeSet(req.ranges.map((r) => ({ start: r.start, end: r.end })));
    const page = await storage.scanData(
      req.afterKey.length === 0 ? undefined : req.afterKey,
      {
        maxBytes: Math.max(1, Math.min(req.maxBytes || PAGE_BYTES, 4 * 1024 * 1024)),
        maxScanned: Math.min(req.maxScanned, 65_536),
      },
      (key) => ranges.contains(tokenOf(key)),
    );
    return {
      entries: page.entries.map((e) => ({ key: e.key, siblings: e.siblings })) as never,
      lastKey: page.lastKey ?? req.afterKey,
      done: page.done,
      scanned: page.scanned,
    };
  }

  // ---- join

  /** Streams in the ranges this joining node will own, then announces it is normal. */
  async join(): Promise<void> {
    const { membership, log, localId, replicas } = this.init;
    const signal = this.stopController.signal;
    const future = membership.targetRing();
    const current = membership.ring();
    if (!future.hasNode(localId)) throw new Error("join: this node is not on the target ring");
    const sources = current.nodes().filter((id) => id !== localId);
    const ranges = future.rangesFor(localId, replicas);
    const progress = this.begin("join", sources.length);
    log.info("join: streaming the ranges this node will own", {
      sources: sources.join(","),
      ranges: ranges.length,
    });
    const limiter = new RateLimiter(this.init.rateBytesPerSecond);
    for (const source of sources) {
      if (this.cursors[source] === "done") {
        progress.peersDone++;
        continue;
      }
      await this.streamFrom(source, ranges, limiter, signal);
      progress.peersDone++;
      log.info("join: source done", {
        source,
        done: `${progress.peersDone}/${progress.peersTotal}`,
        keys: progress.keysMoved,
        bytes: progress.bytesMoved,
      });
    }
    this.init.gossip.setPhase("normal");
    this.cursors = {};
    await this.save("normal");
    progress.finishedAtMs = Date.now();
    log.info("join: complete, this node is normal", {
      keys: progress.keysMoved,
      bytes: progress.bytesMoved,
      seconds: ((progress.finishedAtMs - progress.startedAtMs) / 1000).toFixed(1),
    });
  }

  private async streamFrom(
    source: string,
    ranges: readonly TokenRange[],
    limiter: RateLimiter,
    signal: AbortSignal,
  ): Promise<void> {
    const { membership, peers, storage, log, localId } = this.init;
    const progress = this.progressValue!;
    let after = this.cursors[source] ?? "";
    let failures = 0;
    for (;;) {
      signal.throwIfAborted();
      let page: StreamRangeResponse;
      try {
        page = await peers.observe(
          source,
          peers.forNode(source).call(
            "streamRange",
            {
              ranges: ranges.map((r) => ({ start: r.start, end: r.end })),
              afterKey: unhex(after),
              maxBytes: PAGE_BYTES,
              maxScanned: PAGE_SCAN,
              requesterNodeId: localId,
            },
            { timeoutMs: this.init.requestTimeoutMs, signal },
          ),
        );
      } catch (e) {
        signal.throwIfAborted();
        if (!membership.isAlive(source) && membership.member(source)?.status === "dead") {
          // Its data is on the other replicas, which this node streams from as well.
          log.warn("join: source is dead, skipping it", { source, error: messageOf(e) });
          return;
        }
        failures++;
        if (codeOf(e) !== Code.FailedPrecondition && failures % 20 === 1) {
          log.warn("join: stream page failed, retrying from the last key", {
            source,
            error: messageOf(e),
          });
        }
        await sleep(RETRY_MS, signal);
        continue;
      }
      failures = 0;
      let bytes = 0;
      let created = 0;
      await Promise.all(
        page.entries.map(async (e) => {
          if (await storage.mergeStreamed(e.key, decodeSiblingSet(e.siblings))) created++;
          bytes += e.key.length + e.siblings.length;
        }),
      );
      progress.keysScanned += page.scanned;
      // Keys new to this node: each source sends its copy, so this counts distinct keys.
      progress.keysMoved += created;
      progress.bytesMoved += bytes;
      after = page.done ? "done" : hex(page.lastKey);
      this.cursors[source] = after;
      await this.save("joining");
      if (page.done) return;
      await limiter.take(bytes, signal);
    }
  }

  // ---- decommission

  /** Hands this node's data to the nodes taking its ranges over, then leaves the cluster. */
  async decommission(): Promise<void> {
    const { gossip, membership, storage, log, localId, replicas } = this.init;
    const signal = this.stopController.signal;
    if (gossip.localMember.phase !== "leaving") {
      gossip.setPhase("leaving");
      await this.save("leaving");
    }
    const others = membership
      .ring()
      .nodes()
      .filter((id) => id !== localId);
    if (others.length === 0) throw new Error("decommission: this is the only node of the ring");
    log.info("decommission: waiting until every live node sees this node leaving");
    await this.barrier(others, signal);
    const current: HashRing = membership.ring();
    const future: HashRing = membership.targetRing();
    // One "peer" for a leave: this node's own data, done once the scan reached its end.
    const progress = this.begin("decommission", 1);
    const targets = new Set<string>();
    const limiter = new RateLimiter(this.init.rateBytesPerSecond);
    let cursor = this.cursors.self ?? "";
    while (cursor !== "done") {
      const page = await storage.scanData(
        cursor === "" ? undefined : unhex(cursor),
        { maxBytes: PAGE_BYTES, maxScanned: PAGE_SCAN },
        () => true,
      );
      let bytes = 0;
      const jobs: (() => Promise<void>)[] = [];
      for (const e of page.entries) {
        const now = current.preferenceList(e.key, replicas);
        for (const target of future.preferenceList(e.key, replicas)) {
          if (now.includes(target)) continue;
          targets.add(target);
          bytes += e.key.length + e.siblings.length;
          jobs.push(() => this.pushTo(target, e.key, e.siblings, signal));
        }
      }
      await runLimited(jobs, PUSH_CONCURRENCY);
      progress.keysScanned += page.scanned;
      progress.keysMoved += jobs.length;
      progress.bytesMoved += bytes;
      progress.peersDone = page.done ? 1 : 0;
      cursor = page.done ? "done" : hex(page.lastKey ?? new Uint8Array());
      this.cursors.self = cursor;
      await this.save("leaving");
      await limiter.take(bytes, signal);
    }
    const deadline = Date.now() + HINT_DRAIN_MS;
    while (storage.size > 0 && Date.now() < deadline) await sleep(RETRY_MS, signal);
    if (storage.size > 0) {
      log.warn("decommission: hints still queued for unreachable nodes are dropped", {
        hints: storage.size,
      });
    }
    progress.finishedAtMs = Date.now();
    log.info("decommission: data handed over, leaving", {
      keys: progress.keysMoved,
      bytes: progress.bytesMoved,
      targets: [...targets].join(","),
    });
    await this.save("left");
    await gossip.leave();
  }

  // ---- cleanup

  /**
   * Deletes the stored keys that no ring places a replica of on this node any more (a join
   * took their ranges; Cassandra's `nodetool cleanup`), yielding progress after every page.
   * Runs only on a settled ring: this node normal, nobody joining or leaving, the ring
   * unchanged for CLEANUP_SETTLE_MS; it stops with FAILED_PRECONDITION if the ring changes.
   * Under each key's lock, right before the delete, the ring must still be the scanned one with
   * nobody moving, so data a leaving node pushes here (it is `leaving`, a move, before it
   * pushes) or a joiner's ranges changing hands are never deleted. Idempotent:
   * stopped half way (ring change, client gone), it can simply run again.
   */
  async *cleanup(signal?: AbortSignal): AsyncGenerator<CleanupProgress, void, undefined> {
    const { gossip, membership, storage, log, localId, replicas } = this.init;
    const refuse = (why: string) =>
      new ConnectError(`cleanup refused on ${localId}: ${why}`, Code.FailedPrecondition);
    if (gossip.localMember.phase !== "normal") {
      throw refuse(`this node is ${gossip.localMember.phase}, not normal`);
    }
    if (membership.moving) throw refuse("a node is joining or leaving; run it once that is done");
    const stableMs = membership.ringStableForMs;
    if (stableMs < CLEANUP_SETTLE_MS) {
      throw refuse(
        `the ring changed ${(stableMs / 1000).toFixed(1)} s ago; retry once it has been stable for ${CLEANUP_SETTLE_MS / 1000} s`,
      );
    }
    if (this.cleaning) throw refuse("a cleanup is already running");
    this.cleaning = true;
    const ring = membership.ring();
    // The scan picks the keys `ring` does not place here; under each key's lock, before the
    // delete, the ring must still be that one with nobody moving for the choice to hold.
    const settled = () => !membership.moving && membership.ring() === ring;
    const startedAt = Date.now();
    const progress: CleanupProgress = {
      keysScanned: 0,
      keysRemoved: 0,
      bytesRemoved: 0,
      elapsedSeconds: 0,
      done: false,
    };
    log.info("cleanup: deleting the keys of ranges this node no longer replicates");
    try {
      let after: Uint8Array | undefined;
      for (;;) {
        signal?.throwIfAborted();
        this.stopController.signal.throwIfAborted();
        if (membership.moving || membership.ring() !== ring) {
          throw refuse(
            `the ring changed during the cleanup (${progress.keysRemoved} keys deleted so far); run it again once it is stable`,
          );
        }
        const page = await storage.scanData(
          after,
          { maxBytes: PAGE_BYTES, maxScanned: PAGE_SCAN },
          (key) => !ring.preferenceList(key, replicas).includes(localId),
        );
        for (const e of page.entries) {
          const bytes = await storage.dropIfForeign(e.key, settled);
          if (bytes > 0) {
            progress.keysRemoved++;
            progress.bytesRemoved += bytes;
          }
        }
        progress.keysScanned += page.scanned;
        progress.elapsedSeconds = (Date.now() - startedAt) / 1000;
        progress.done = page.done;
        if (page.done) break;
        after = page.lastKey;
        yield { ...progress };
      }
      log.info("cleanup: complete", {
        scanned: progress.keysScanned,
        removed: progress.keysRemoved,
        bytes: progress.bytesRemoved,
        seconds: progress.elapsedSeconds.toFixed(1),
      });
      yield { ...progress };
    } finally {
      this.cleaning = false;
    }
  }

  /** Retries a replica write to a new owner until it lands (or the node stops). */
  private async pushTo(
    target: string,
    key: Uint8Array,
    siblings: Uint8Array,
    signal: AbortSignal,
  ): Promise<void> {
    const { peers, log } = this.init;
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      try {
        await peers.observe(
          target,
          peers
            .forNode(target)
            .replicaWrite({ key, siblings }, { timeoutMs: this.init.requestTimeoutMs, signal }),
        );
        return;
      } catch (e) {
        signal.throwIfAborted();
        if (attempt % 20 === 1) {
          log.warn("decommission: hand-over write failed, retrying", {
            target,
            error: messageOf(e),
          });
        }
        await sleep(RETRY_MS, signal);
      }
    }
  }

  /** Waits until every node in `nodes` that is alive passes the hand-over barrier. */
  private async barrier(nodes: readonly string[], signal: AbortSignal): Promise<void> {
    const { membership, peers, localId } = this.init;
    await Promise.all(
      nodes.map(async (id) => {
        for (;;) {
          signal.throwIfAborted();
          if (!membership.isAlive(id)) return;
          try {
            await peers
              .forNode(id)
              .call(
                "streamRange",
                { maxScanned: 0, requesterNodeId: localId },
                { timeoutMs: this.init.requestTimeoutMs, signal },
              );
            return;
          } catch {
            await sleep(RETRY_MS, signal);
          }
        }
      }),
    );
  }

  private begin(kind: HandoverProgress["kind"], peersTotal: number): HandoverProgress {
    this.progressValue = {
      kind,
      keysScanned: 0,
      keysMoved: 0,
      bytesMoved: 0,
      peersDone: 0,
      peersTotal,
      startedAtMs: Date.now(),
      finishedAtMs: undefined,
    };
    return this.progressValue;
  }

  /** Records that this node is a normal member (its first start, or a join that completed). */
  saveNormal(): Promise<void> {
    this.cursors = {};
    return this.save("normal");
  }

  private save(phase: NodeState["phase"]): Promise<void> {
    return writeNodeState(this.init.dataDir, { version: 1, phase, cursors: this.cursors });
  }
}

async function runLimited(jobs: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}
