import type { Transport, TransportHandler } from "@distkv/gossip";
import type { SeededRandom } from "@distkv/gossip/testing";
import type {
  ReplicaCallOptions,
  ReplicaTransport,
  ReplicaWriteOptions,
  SiblingPayload,
} from "@distkv/quorum";
import type { Codec, SiblingSet } from "@distkv/vclock";
import { InvalidSimulationOptionsError, SimNetworkError } from "./errors.js";
import type { EventOwner, Scheduler } from "./scheduler.js";

/** How messages fare on a link: loss, duplication and a uniform delay (which reorders them). */
export interface LinkConditions {
  /** Probability in [0, 1] that a message is lost. */
  readonly dropRate: number;
  /** Probability in [0, 1] that a message is delivered twice (each copy with its own delay). */
  readonly duplicateRate: number;
  /** Smallest one-way delay, ms. */
  readonly minDelayMs: number;
  /** Largest one-way delay, ms; each message draws uniformly in [min, max]. */
  readonly maxDelayMs: number;
}

/** A healthy network: 1-10 ms, nothing lost or duplicated. */
export const CALM_LINK: LinkConditions = Object.freeze({
  dropRate: 0,
  duplicateRate: 0,
  minDelayMs: 1,
  maxDelayMs: 10,
});

/** What a node's replica side answers (a `@distkv/quorum` Replica). */
export interface ReplicaEndpoint {
  write(key: Uint8Array, bytes: Uint8Array, options: { hintFor?: string }): Promise<void>;
  readEncoded(key: Uint8Array): Promise<Uint8Array | undefined>;
}

/** What the network did, for the run's figures. */
export interface NetworkCounters {
  /** Messages handed to the network (requests, replies, datagrams). */
  sent: number;
  delivered: number;
  /** Lost to a link's drop rate. */
  dropped: number;
  /** Extra copies delivered. */
  duplicated: number;
  /** Lost to a partition (at sending or on arrival). */
  partitioned: number;
  /** Calls refused because the peer was down or still starting. */
  refused: number;
  /** Calls that broke because the peer crashed while handling them. */
  reset: number;
}

interface Endpoint {
  readonly nodeId: string;
  readonly process: EventOwner;
  replica: ReplicaEndpoint | undefined;
  gossip: TransportHandler | undefined;
  /** Calls this process is handling: a crash breaks them (the caller sees a reset). */
  readonly inbound: Set<() => void>;
}

function checkConditions(c: LinkConditions): LinkConditions {
  const rate = (name: string, v: number) => {
    if (!(typeof v === "number" && v >= 0 && v <= 1)) {
      throw new InvalidSimulationOptionsError(`${name} must be in [0, 1], got ${v}`);
    }
  };
  rate("dropRate", c.dropRate);
  rate("duplicateRate", c.duplicateRate);
  if (!(c.minDelayMs >= 0 && c.maxDelayMs >= c.minDelayMs && Number.isFinite(c.maxDelayMs))) {
    throw new InvalidSimulationOptionsError(
      `need 0 <= minDelayMs <= maxDelayMs, got ${c.minDelayMs}, ${c.maxDelayMs}`,
    );
  }
  return Object.freeze({ ...c });
}

/**
 * The simulated network between the nodes of one simulation: every message is an event of the
 * scheduler, and every fault decision comes from one seeded random stream.
 *
 * - Links: default conditions for every link (`setDefaultLink`) and per directed link
 *   overrides (`setLink`): loss, duplication, delay. Random delays reorder messages.
 * - Partitions (`partition`): nodes in different groups cannot exchange anything; messages in
 *   flight across the cut are lost on arrival.
 * - Replica calls (`replicaTransport`) are request/reply: the request and the reply are
 *   separate messages, each subject to the link faults. A call to a node that is down (or still
 *   starting) is refused; one whose handler was running when the node crashed breaks (reset);
 *   one whose request or reply is lost stays pending until the caller's signal aborts (the
 *   coordinator's deadline). A call is bound to the process it reached: a restarted node never
 *   answers its previous incarnation's calls.
 * - Gossip (`gossipTransport`) gets datagrams (lossy, as UDP) and push-pull requests (a
 *   stream: never lost to the drop rate, but hung by a partition until gossip gives up, and
 *   refused by a node that is down).
 */
export class SimNetwork {
  readonly counters: NetworkCounters = {
    sent: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    partitioned: 0,
    refused: 0,
    reset: 0,
  };
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly links = new Map<string, LinkConditions>();
  private readonly groups = new Map<string, number>();
  private defaultLink: LinkConditions = CALM_LINK;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly random: SeededRandom,
    private readonly codec: Codec,
  ) {}

  // ---------------------------------------------------------------- faults

  /** Conditions of every link without an override. */
  setDefaultLink(conditions: LinkConditions): void {
    this.defaultLink = checkConditions(conditions);
  }

  /** Overrides (or with `undefined` clears) the conditions of the directed link from -> to. */
  setLink(from: string, to: string, conditions: LinkConditions | undefined): void {
    const id = `${from}>${to}`;
    if (conditions === undefined) this.links.delete(id);
    else this.links.set(id, checkConditions(conditions));
  }

  /** Removes every link override. */
  clearLinks(): void {
    this.links.clear();
  }

  /** Splits the nodes into groups that cannot reach each other; nodes in no group reach all. */
  partition(groups: readonly (readonly string[])[]): void {
    this.groups.clear();
    groups.forEach((g, i) => {
      for (const id of g) this.groups.set(id, i);
    });
  }

  /** Ends the partition. */
  heal(): void {
    this.groups.clear();
  }

  /** Whether a message from -> to passes the partition. */
  canReach(from: string, to: string): boolean {
    const a = this.groups.get(from);
    const b = this.groups.get(to);
    return a === undefined || b === undefined || a === b;
  }

  // ---------------------------------------------------------------- nodes

  /** A node's process came up: it is reachable (replica calls once `serveReplica` is set). */
  attach(nodeId: string, process: EventOwner): void {
    this.endpoints.set(nodeId, {
      nodeId,
      process,
      replica: undefined,
      gossip: undefined,
      inbound: new Set(),
    });
  }

  /** The node's storage is open: replica calls are answered by `replica`. */
  serveReplica(nodeId: string, process: EventOwner, replica: ReplicaEndpoint): void {
    const ep = this.endpoints.get(nodeId);
    if (ep !== undefined && ep.process === process) ep.replica = replica;
  }

  /**
   * The node's process died: it is unreachable from now on, and every call it was handling
   * breaks (the callers get a reset after a link delay, as a closed connection reports).
   */
  detach(nodeId: string): void {
    const ep = this.endpoints.get(nodeId);
    if (ep === undefined) return;
    this.endpoints.delete(nodeId);
    for (const breakCall of [...ep.inbound]) breakCall();
    ep.inbound.clear();
  }

  // ---------------------------------------------------------------- transports

  /** The replica transport of one process of node `nodeId` (the coordinator's and handoff's). */
  replicaTransport(nodeId: string, process: EventOwner): ReplicaTransport {
    return {
      write: (to: string, key: Uint8Array, payload: SiblingPayload, options: ReplicaWriteOptions) =>
        this.call<void>(nodeId, process, to, options, "rpc.write", async (replica) => {
          const hintFor = options.hintFor;
          await replica.write(
            key.slice(),
            payload.bytes.slice(),
            hintFor === undefined ? {} : { hintFor },
          );
          return undefined;
        }),
      read: async (
        to: string,
        key: Uint8Array,
        options: ReplicaCallOptions,
      ): Promise<SiblingSet<Uint8Array> | undefined> => {
        const bytes = await this.call<Uint8Array | undefined>(
          nodeId,
          process,
          to,
          options,
          "rpc.read",
          async (replica) => {
            const b = await replica.readEncoded(key.slice());
            return b === undefined ? undefined : b.slice();
          },
        );
        return bytes === undefined ? undefined : this.codec.decodeSiblingSet(bytes);
      },
    };
  }

  /** The gossip transport of one process of node `nodeId` (its address is its id). */
  gossipTransport(nodeId: string, process: EventOwner): Transport {
    return {
      send: (to, data) => this.datagram(nodeId, process, to, data),
      request: (to, data, signal) => this.gossipRequest(nodeId, process, to, data, signal),
      listen: (handler) => {
        const ep = this.endpoints.get(nodeId);
        if (ep === undefined || ep.process !== process) return () => {};
        ep.gossip = handler;
        return () => {
          if (ep.gossip === handler) ep.gossip = undefined;
        };
      },
    };
  }

  // ---------------------------------------------------------------- messages

  private linkOf(from: string, to: string): LinkConditions {
    return this.links.get(`${from}>${to}`) ?? this.defaultLink;
  }

  private delayOf(link: LinkConditions): number {
    return link.minDelayMs + this.random.int(link.maxDelayMs - link.minDelayMs + 1);
  }

  /**
   * Sends one message: `deliver` runs on arrival unless a fault takes it. `owner`: the process
   * the arrival belongs to (a reply dies with its caller), or undefined (checked on arrival).
   * `lossy`: subject to the drop and duplicate rates (false for stream traffic of gossip).
   */
  private send(
    from: string,
    to: string,
    kind: string,
    owner: EventOwner | undefined,
    lossy: boolean,
    deliver: () => void,
  ): void {
    this.counters.sent++;
    if (!this.canReach(from, to)) {
      this.counters.partitioned++;
      return;
    }
    const link = this.linkOf(from, to);
    if (lossy && this.random.chance(link.dropRate)) {
      this.counters.dropped++;
      return;
    }
    const copies = lossy && this.random.chance(link.duplicateRate) ? 2 : 1;
    if (copies === 2) this.counters.duplicated++;
    for (let i = 0; i < copies; i++) {
      this.scheduler.schedule(this.delayOf(link), owner, kind, () => {
        if (!this.canReach(from, to)) {
          this.counters.partitioned++;
          return;
        }
        this.counters.delivered++;
        deliver();
      });
    }
  }

  private call<T>(
    from: string,
    process: EventOwner,
    to: string,
    options: ReplicaCallOptions,
    kind: string,
    handle: (replica: ReplicaEndpoint) => Promise<T>,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const signal = options.signal;
      let settled = false;
      const onAbort = () => finish(() => reject(signal.reason));
      const finish = (action: () => void) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        action();
      };
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      if (!process.alive) {
        reject(new SimNetworkError(to, `${from} is not running`));
        return;
      }
      signal.addEventListener("abort", onAbort, { once: true });
      // The call is bound to the incarnation of `to` that is up when it is sent.
      const target = this.endpoints.get(to)?.process;
      const replyError = (message: string) =>
        this.send(to, from, `${kind}.error`, process, true, () =>
          finish(() => reject(new SimNetworkError(to, message))),
        );
      this.send(from, to, kind, undefined, true, () => {
        const ep = this.endpoints.get(to);
        if (ep === undefined || ep.process !== target || ep.replica === undefined) {
          this.counters.refused++;
          replyError(`node ${to} is down (connection refused)`);
          return;
        }
        let broken = false;
        const breakCall = () => {
          broken = true;
          this.counters.reset++;
          replyError(`node ${to} crashed while handling the call (connection reset)`);
        };
        ep.inbound.add(breakCall);
        const done = (reply: () => void) => {
          ep.inbound.delete(breakCall);
          if (broken || !ep.process.alive) return;
          this.send(to, from, `${kind}.reply`, process, true, () => finish(reply));
        };
        let work: Promise<T>;
        try {
          work = handle(ep.replica);
        } catch (e) {
          work = Promise.reject(e);
        }
        work.then(
          (value) => done(() => resolve(value)),
          (error: unknown) => done(() => reject(error)),
        );
      });
    });
  }

  private datagram(from: string, process: EventOwner, to: string, data: Uint8Array): void {
    if (!process.alive) return;
    const copy = data.slice();
    this.send(from, to, "gossip.datagram", undefined, true, () => {
      const handler = this.endpoints.get(to)?.gossip;
      handler?.onMessage(from, copy);
    });
  }

  private gossipRequest(
    from: string,
    process: EventOwner,
    to: string,
    data: Uint8Array,
    signal: AbortSignal,
  ): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      let settled = false;
      const finish = (action: () => void) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        action();
      };
      const onAbort = () => finish(() => reject(signal.reason));
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      if (!process.alive) {
        reject(new SimNetworkError(to, `${from} is not running`));
        return;
      }
      signal.addEventListener("abort", onAbort, { once: true });
      const copy = data.slice();
      const fail = (message: string) =>
        this.send(to, from, "gossip.request.error", process, false, () =>
          finish(() => reject(new SimNetworkError(to, message))),
        );
      this.send(from, to, "gossip.request", undefined, false, () => {
        const handler = this.endpoints.get(to)?.gossip;
        if (handler === undefined) {
          this.counters.refused++;
          fail(`node ${to} is down (connection refused)`);
          return;
        }
        let reply: Uint8Array;
        try {
          reply = handler.onRequest(from, copy).slice();
        } catch (e) {
          fail(`node ${to} failed the request: ${e instanceof Error ? e.message : String(e)}`);
          return;
        }
        this.send(to, from, "gossip.reply", process, false, () => finish(() => resolve(reply)));
      });
    });
  }
}
