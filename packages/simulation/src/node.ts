import { Gossip, type GossipConfig } from "@distkv/gossip";
import type { SeededRandom } from "@distkv/gossip/testing";
import {
  type Clock,
  Coordinator,
  HintedHandoff,
  type HintedHandoffOptions,
  type MembershipView,
  type QuorumOptions,
  QuorumStats,
  Replica,
  type ReplicaOptions,
} from "@distkv/quorum";
import type { HashRing } from "@distkv/ring";
import type { Codec } from "@distkv/vclock";
import { gossipMembership } from "./membership.js";
import type { SimNetwork } from "./network.js";
import type { EventOwner, Scheduler } from "./scheduler.js";
import { LsmNodeStorage, type NodeStorageOptions, type SimDisk } from "./storage.js";

/** One run of a node's process, from start to crash: the owner of its events. */
class NodeProcess implements EventOwner {
  alive = true;
  constructor(readonly traceId: number) {}
}

/** Everything a node needs from the simulation. */
export interface SimNodeInit {
  readonly id: string;
  /** 1-based position of the node, for trace ids. */
  readonly index: number;
  readonly scheduler: Scheduler;
  readonly network: SimNetwork;
  readonly disk: SimDisk;
  readonly ring: HashRing;
  readonly codec: Codec;
  /** The node's own random stream (gossip draws from forks of it, one per incarnation). */
  readonly random: SeededRandom;
  readonly quorum: QuorumOptions;
  readonly replica: ReplicaOptions;
  readonly handoff: HintedHandoffOptions;
  readonly gossip: GossipConfig;
  readonly storage: Omit<NodeStorageOptions, "codec" | "readDelay">;
  /** Wall-clock time of simulated time 0 on this node (a per-node skew is added in). */
  readonly epochMs: number;
  /**
   * How far this node's wall clock is off on its `start`-th start (1-based), ms (positive:
   * ahead). A different value per start models a machine whose clock was reset while it was
   * down: the restarted node may be behind its own previous run.
   */
  readonly clockSkewMs: (start: number) => number;
  /** The other nodes' addresses (ids), to join through. */
  readonly peers: readonly string[];
  /** Delay between attempts to join when no peer answered, ms. */
  readonly joinRetryMs: number;
}

/** The parts of a running node. */
export interface NodeParts {
  readonly storage: LsmNodeStorage;
  readonly gossip: Gossip;
  readonly membership: MembershipView;
  readonly coordinator: Coordinator;
  readonly replica: Replica;
  readonly handoff: HintedHandoff;
  readonly stats: QuorumStats;
}

/** A node's lifecycle state: down (crashed or never started), starting (recovering), up. */
export type NodeState = "down" | "starting" | "up";

/**
 * One DistKV node of the simulation: an @distkv/lsm database on a simulated disk, a
 * @distkv/quorum Replica, Coordinator and HintedHandoff, and @distkv/gossip for membership,
 * wired as a server wires them, with a simulated clock and network.
 *
 * `start()` boots a new process (recovery of the database, then gossip and the quorum
 * components); `crash()` is a power loss: the process and everything it had scheduled vanish,
 * calls it was handling break, and the disk keeps only what was synced.
 */
export class SimNode {
  readonly id: string;
  private process: NodeProcess | undefined;
  private parts: NodeParts | undefined;
  private starts = 0;
  private diskFaulted = false;
  private diskFaultTotal = 0;

  constructor(private readonly init: SimNodeInit) {
    this.id = init.id;
  }

  get state(): NodeState {
    if (this.process === undefined) return "down";
    return this.parts === undefined ? "starting" : "up";
  }

  /** The running node's parts; undefined unless up. */
  get running(): NodeParts | undefined {
    return this.parts;
  }

  /** Disk faults injected over the node's life. */
  get diskFaultCount(): number {
    return this.diskFaultTotal;
  }

  /** Whether an I/O error was injected into the running process's disk (it needs a restart). */
  get needsRestart(): boolean {
    return this.diskFaulted;
  }

  /**
   * Fails the `nth` next fsync of the running process's write-ahead log: writes waiting for it
   * fail, and the database refuses writes from then on (reads go on) until the node restarts.
   */
  injectDiskFault(nth: number): void {
    if (this.process === undefined) return;
    this.diskFaulted = true;
    this.diskFaultTotal++;
    this.init.disk.failSync(nth);
  }

  /**
   * Boots a new process. The returned promise settles when the node is up, or never if it
   * crashes first; it rejects if the database cannot be recovered (a storage bug).
   */
  start(): Promise<void> {
    if (this.process !== undefined) throw new Error(`node ${this.id} is already running`);
    const init = this.init;
    this.starts++;
    this.diskFaulted = false;
    const process = new NodeProcess(init.index * 1000 + this.starts);
    this.process = process;
    init.network.attach(this.id, process);
    return this.boot(process);
  }

  /** Power loss of the node: nothing of the running process survives but its synced data. */
  crash(): void {
    const process = this.process;
    if (process === undefined) return;
    process.alive = false;
    this.process = undefined;
    const parts = this.parts;
    this.parts = undefined;
    this.init.network.detach(this.id);
    if (parts !== undefined) {
      parts.gossip.stop();
      parts.coordinator.stop();
      void parts.handoff.stop();
    }
    this.init.disk.powerLoss();
  }

  private clockFor(process: NodeProcess, skewMs: number, kind: string): Clock {
    const { scheduler, epochMs } = this.init;
    return {
      nowMs: () => epochMs + skewMs + scheduler.nowMs,
      schedule: (fn, delayMs) => scheduler.schedule(delayMs, process, kind, fn),
    };
  }

  private async boot(process: NodeProcess): Promise<void> {
    const init = this.init;
    const storage = await LsmNodeStorage.open(init.disk.fileSystemFor(process), {
      ...init.storage,
      codec: init.codec,
      readDelay: init.disk.readDelayFor(process),
    });
    if (!process.alive) return;
    const skewMs = init.clockSkewMs(this.starts);
    const stats = new QuorumStats();
    const gossip = new Gossip({
      id: this.id,
      address: this.id,
      transport: init.network.gossipTransport(this.id, process),
      clock: this.clockFor(process, skewMs, "gossip.timer"),
      random: init.random.fork(`gossip#${this.starts}`).source,
      config: init.gossip,
    });
    const membership = gossipMembership(gossip);
    const transport = init.network.replicaTransport(this.id, process);
    const replica = new Replica({
      localId: this.id,
      store: storage,
      hintStore: storage,
      codec: init.codec,
      stats,
      clock: this.clockFor(process, skewMs, "replica.timer"),
      options: init.replica,
    });
    const coordinator = new Coordinator({
      ring: init.ring,
      membership,
      store: storage,
      transport,
      clock: this.clockFor(process, skewMs, "quorum.timer"),
      codec: init.codec,
      stats,
      options: init.quorum,
    });
    const handoff = new HintedHandoff({
      membership,
      hintStore: storage,
      transport,
      clock: this.clockFor(process, skewMs, "handoff.timer"),
      codec: init.codec,
      stats,
      options: init.handoff,
    });
    this.parts = { storage, gossip, membership, coordinator, replica, handoff, stats };
    init.network.serveReplica(this.id, process, replica);
    gossip.start();
    handoff.start();
    this.join(process, gossip);
  }

  /** Joins through the peers, retrying while none answers (they may all be down or cut off). */
  private join(process: NodeProcess, gossip: Gossip): void {
    const peers = this.init.peers;
    if (peers.length === 0) return;
    gossip.join(peers).catch(() => {
      if (!process.alive) return;
      this.init.scheduler.schedule(this.init.joinRetryMs, process, "node.rejoin", () =>
        this.join(process, gossip),
      );
    });
  }
}
