import type { GossipConfig } from "../config.js";
import { Gossip } from "../gossip.js";
import type { GossipLogger } from "../logger.js";
import type { MemberPhase, MemberStatus } from "../member.js";
import { isAliveStatus } from "../member.js";
import { type LinkConditions, SimNetwork } from "./sim-network.js";

export interface SimClusterInit {
  seed: number;
  /** Config of every node (a node's own `config` option replaces it). */
  config?: GossipConfig;
  /** Default conditions of every link. */
  link?: LinkConditions;
  /** Give nodes transports without `request` (push-pull as datagrams). @default false */
  datagramOnly?: boolean;
  logger?: GossipLogger;
}

export interface SimNodeOptions {
  /** @default `${id}:7946` */
  address?: string;
  incarnation?: number;
  metadata?: Uint8Array;
  phase?: MemberPhase;
  config?: GossipConfig;
}

/**
 * Many Gossip nodes on one SimNetwork: every node gets the network's clock, a transport and a
 * random stream forked from the seed (by id and start count, so a restart draws differently).
 */
export class SimCluster {
  readonly network: SimNetwork;
  private readonly gossips = new Map<string, Gossip>();
  private readonly addresses = new Map<string, string>();
  private readonly down = new Set<string>();
  private starts = 0;

  constructor(private readonly init: SimClusterInit) {
    this.network = new SimNetwork(
      init.link === undefined ? { seed: init.seed } : { seed: init.seed, link: init.link },
    );
  }

  /** Creates and starts node `id` (without joining). A node with that id that runs is replaced. */
  start(id: string, options: SimNodeOptions = {}): Gossip {
    const address = options.address ?? `${id}:7946`;
    const transport = this.init.datagramOnly
      ? this.network.datagramTransportFor(address)
      : this.network.transportFor(address);
    const config = options.config ?? this.init.config;
    const g = new Gossip({
      id,
      address,
      transport,
      clock: this.network.clockFor(address),
      random: this.network.randomFor(`${id}#${this.starts++}`),
      ...(config === undefined ? {} : { config }),
      ...(this.init.logger === undefined ? {} : { logger: this.init.logger }),
      ...(options.incarnation === undefined ? {} : { incarnation: options.incarnation }),
      ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
      ...(options.phase === undefined ? {} : { phase: options.phase }),
    });
    g.start();
    this.gossips.set(id, g);
    this.addresses.set(id, address);
    this.down.delete(id);
    return g;
  }

  /** Starts node `id` and joins it through `seeds` (addresses); resolves when the join settled. */
  async startAndJoin(
    id: string,
    seeds: readonly string[],
    options: SimNodeOptions = {},
  ): Promise<Gossip> {
    const g = this.start(id, options);
    await this.settle(g.join(seeds));
    return g;
  }

  /**
   * Starts `n` nodes named `${prefix}0`.. and joins each through the first one, then runs until
   * every node sees every other as alive. Returns the ids; throws if they did not converge
   * within `maxMs` of simulated time.
   */
  async bootstrap(n: number, prefix = "node-", maxMs = 120_000): Promise<string[]> {
    const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    const first = ids[0];
    if (first === undefined) return ids;
    this.start(first);
    const seed = this.addressOf(first);
    const joins = ids.slice(1).map((id) => this.start(id).join([seed]));
    await this.settle(Promise.all(joins));
    const took = await this.network.runUntil(() => this.converged(), maxMs);
    if (took === undefined)
      throw new Error(`bootstrap of ${n} nodes did not converge in ${maxMs} ms`);
    return ids;
  }

  /** Runs the network until `promise` settles (at most `maxMs` simulated), then returns its outcome. */
  async settle<T>(promise: Promise<T>, maxMs = 600_000): Promise<T> {
    let settled = false;
    promise.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    await this.network.runUntil(() => settled, maxMs);
    if (!settled) throw new Error(`still pending after ${maxMs} ms of simulated time`);
    return promise;
  }

  node(id: string): Gossip {
    const g = this.gossips.get(id);
    if (g === undefined) throw new Error(`no node ${id}`);
    return g;
  }

  addressOf(id: string): string {
    const a = this.addresses.get(id);
    if (a === undefined) throw new Error(`no node ${id}`);
    return a;
  }

  /** Ids of nodes that run (started, not crashed, not stopped), left ones included. */
  runningIds(): string[] {
    return [...this.gossips.keys()].filter(
      (id) => !this.down.has(id) && this.gossips.get(id)!.running,
    );
  }

  /** Ids of running nodes that have not left. */
  liveIds(): string[] {
    return this.runningIds().filter((id) => this.gossips.get(id)!.localMember.status !== "left");
  }

  /** Kills node `id`: its timers and inbound messages vanish, as with SIGKILL. */
  crash(id: string): void {
    this.network.crash(this.addressOf(id));
    this.down.add(id);
  }

  pause(id: string): void {
    this.network.pause(this.addressOf(id));
  }

  resume(id: string): void {
    this.network.resume(this.addressOf(id));
  }

  /** `subject`'s status as `observer` sees it; undefined when unknown. */
  statusOf(observer: string, subject: string): MemberStatus | undefined {
    return this.node(observer).member(subject)?.status;
  }

  /** Whether every live node sees every other live node as alive (joining, normal or leaving). */
  converged(): boolean {
    const live = this.liveIds();
    for (const o of live) {
      const g = this.gossips.get(o)!;
      for (const s of live) {
        const m = g.member(s);
        if (m === undefined || !isAliveStatus(m.status)) return false;
      }
    }
    return true;
  }
}
