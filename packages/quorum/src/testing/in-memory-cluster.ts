import { HashRing } from "@distkv/ring";
import { type Codec, createCodec } from "@distkv/vclock";
import { type Clock, systemClock } from "../clock.js";
import { Coordinator } from "../coordinator.js";
import { type QuorumOperation, UnavailableError } from "../errors.js";
import { HintedHandoff } from "../hinted-handoff.js";
import { InMemoryHintStore } from "../in-memory-hint-store.js";
import { InMemoryReplicaStore } from "../in-memory-replica-store.js";
import type { QuorumKey } from "../key.js";
import type { MembershipView } from "../membership-view.js";
import type { HintedHandoffOptions, QuorumOptions, ReplicaOptions } from "../options.js";
import { Replica } from "../replica.js";
import type { ReplicaTransport } from "../replica-transport.js";
import type { GetResult, RequestOptions, WriteOptions, WriteResult } from "../request.js";
import { QuorumStats } from "../stats.js";
import { InMemoryMembership } from "./in-memory-membership.js";
import { InMemoryNetwork } from "./in-memory-network.js";
import { flushMicrotasks, ManualClock } from "./manual-clock.js";

export interface InMemoryClusterInit {
  /** Node ids, or a count (ids `node-1` ... `node-<count>`). */
  nodes: number | readonly string[];
  /** Coordinator options of every node. */
  quorum?: QuorumOptions;
  /** Replica options of every node. */
  replica?: ReplicaOptions;
  /** HintedHandoff options of every node. @default { intervalMs: 0 } (event-driven only) */
  handoff?: HintedHandoffOptions;
  /** Seeds the network's fault decisions. @default 1 */
  seed?: number;
  /** @default systemClock; pass a ManualClock for deterministic runs */
  clock?: Clock;
  /** Virtual nodes per node on the ring. @default 150 */
  virtualNodes?: number;
  codec?: Codec;
}

/** One node of an InMemoryCluster: the same parts a server composes. */
export interface InMemoryClusterNode {
  readonly id: string;
  readonly store: InMemoryReplicaStore;
  readonly hints: InMemoryHintStore;
  readonly replica: Replica;
  readonly coordinator: Coordinator;
  readonly handoff: HintedHandoff;
  readonly stats: QuorumStats;
  readonly transport: ReplicaTransport;
  readonly membership: MembershipView;
}

/**
 * N nodes in one process, each with its own store, hint store, Replica, Coordinator and
 * HintedHandoff, joined by an InMemoryNetwork with fault injection. `put`/`get`/`delete`
 * route to `coordinatorFor(key)` as a server would forward them.
 */
export class InMemoryCluster {
  readonly ring: HashRing;
  readonly network: InMemoryNetwork;
  readonly membership = new InMemoryMembership();
  readonly clock: Clock;
  readonly nodeIds: readonly string[];
  private readonly byId = new Map<string, InMemoryClusterNode>();

  constructor(init: InMemoryClusterInit) {
    const ids =
      typeof init.nodes === "number"
        ? Array.from({ length: init.nodes }, (_, i) => `node-${i + 1}`)
        : [...init.nodes];
    this.nodeIds = Object.freeze(ids);
    this.clock = init.clock ?? systemClock;
    const codec = init.codec ?? createCodec();
    this.ring = new HashRing(
      init.virtualNodes === undefined ? {} : { virtualNodes: init.virtualNodes },
    );
    for (const id of ids) this.ring.addNode(id);
    this.network = new InMemoryNetwork({ seed: init.seed ?? 1, clock: this.clock, codec });
    for (const id of ids) {
      const stats = new QuorumStats();
      const store = new InMemoryReplicaStore();
      const hints = new InMemoryHintStore();
      const membership = this.membership.view(id);
      const transport = this.network.transport(id);
      const replica = new Replica({
        localId: id,
        store,
        hintStore: hints,
        codec,
        stats,
        clock: this.clock,
        ...(init.replica === undefined ? {} : { options: init.replica }),
      });
      const coordinator = new Coordinator({
        ring: this.ring,
        membership,
        store,
        transport,
        clock: this.clock,
        codec,
        stats,
        ...(init.quorum === undefined ? {} : { options: init.quorum }),
      });
      const handoff = new HintedHandoff({
        membership,
        hintStore: hints,
        transport,
        clock: this.clock,
        codec,
        stats,
        options: init.handoff ?? { intervalMs: 0 },
      });
      this.network.register(id, replica);
      this.byId.set(id, {
        id,
        store,
        hints,
        replica,
        coordinator,
        handoff,
        stats,
        transport,
        membership,
      });
    }
  }

  node(id: string): InMemoryClusterNode {
    const node = this.byId.get(id);
    if (node === undefined) throw new RangeError(`no node ${JSON.stringify(id)} in the cluster`);
    return node;
  }

  nodes(): InMemoryClusterNode[] {
    return [...this.byId.values()];
  }

  /** The key's replicas (N of them, per the coordinators' options). */
  preferenceList(key: QuorumKey): string[] {
    return this.node(this.nodeIds[0]!).coordinator.preferenceList(key);
  }

  /** The first live replica of the key: where a server would forward its requests. */
  coordinatorFor(key: QuorumKey): string | undefined {
    return this.node(this.nodeIds[0]!).coordinator.coordinatorFor(key);
  }

  put(key: QuorumKey, value: Uint8Array, options?: WriteOptions): Promise<WriteResult> {
    return this.route(key, "write", (c) => c.put(key, value, options));
  }

  get(key: QuorumKey, options?: RequestOptions): Promise<GetResult> {
    return this.route(key, "read", (c) => c.get(key, options));
  }

  delete(key: QuorumKey, options?: WriteOptions): Promise<WriteResult> {
    return this.route(key, "write", (c) => c.delete(key, options));
  }

  /** Crash: the node refuses calls and membership reports it down (with a "down" event). */
  crash(id: string): void {
    this.node(id);
    this.network.setNodeFault(id, "crashed");
    this.membership.setAlive(id, false);
  }

  /** Recover from `crash` (or `hang`): reachable again, reported up (with an "up" event). */
  recover(id: string): void {
    this.node(id);
    this.network.setNodeFault(id, undefined);
    this.membership.setAlive(id, true);
  }

  /** Hang: the node stops answering while membership still reports it alive. */
  hang(id: string): void {
    this.node(id);
    this.network.setNodeFault(id, "unresponsive");
  }

  /** Starts every node's HintedHandoff. */
  start(): void {
    for (const node of this.byId.values()) node.handoff.start();
  }

  /** Stops every node's HintedHandoff and Coordinator. */
  async stop(): Promise<void> {
    for (const node of this.byId.values()) node.coordinator.stop();
    await Promise.all([...this.byId.values()].map((n) => n.handoff.stop()));
  }

  /** Requests and their background work in progress, over all nodes. */
  get activeOperations(): number {
    let n = 0;
    for (const node of this.byId.values()) n += node.coordinator.activeOperations;
    return n;
  }

  /** Hint delivery runs in progress, over all nodes. */
  get activeDeliveries(): number {
    let n = 0;
    for (const node of this.byId.values()) n += node.handoff.activeDeliveries;
    return n;
  }

  /**
   * Settles `promise`; with a ManualClock, fires timers (moving virtual time) until it does.
   */
  run<T>(promise: Promise<T>): Promise<T> {
    return this.clock instanceof ManualClock ? this.clock.run(promise) : promise;
  }

  /**
   * Waits until no message is in flight, no request has background work left (read repair,
   * writes past W) and no hint delivery runs. With a ManualClock, fires timers as needed
   * (requests and deliveries end at their deadline at the latest); with the system clock, polls.
   */
  async settle(): Promise<void> {
    const clock = this.clock;
    for (;;) {
      await flushMicrotasks();
      if (
        this.network.pending === 0 &&
        this.activeOperations === 0 &&
        this.activeDeliveries === 0
      ) {
        return;
      }
      if (clock instanceof ManualClock) {
        if (!(await clock.step())) return;
      } else {
        await new Promise<void>((resolve) => setTimeout(resolve, 1));
      }
    }
  }

  private route<T>(
    key: QuorumKey,
    operation: QuorumOperation,
    op: (c: Coordinator) => Promise<T>,
  ): Promise<T> {
    let id: string | undefined;
    try {
      id = this.coordinatorFor(key);
    } catch (e) {
      return Promise.reject(e); // an invalid key: let the caller see the coordinator's error
    }
    if (id === undefined) {
      const preference = this.preferenceList(key);
      return Promise.reject(
        new UnavailableError(
          operation,
          1,
          0,
          preference.map((nodeId) => ({ nodeId, reason: "down", message: "down per membership" })),
          "no replica of the key is alive",
        ),
      );
    }
    return op(this.node(id).coordinator);
  }
}
