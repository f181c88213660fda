import { type Codec, createCodec, type SiblingSet } from "@distkv/vclock";
import { type Clock, systemClock } from "../clock.js";
import type { Replica } from "../replica.js";
import type {
  ReplicaCallOptions,
  ReplicaTransport,
  ReplicaWriteOptions,
  SiblingPayload,
} from "../replica-transport.js";
import { SeededRandom } from "./seeded-random.js";

/** Faults on the directed link from one node to another. */
export interface LinkFault {
  /** Probability in [0, 1] that a message (a request, or the reply coming back) is lost. */
  dropRate?: number;
  /** Delay of each message, in ms: fixed, or uniform in [min, max]. @default 0 */
  delayMs?: number | readonly [number, number];
}

/**
 * Faults of a node as seen from the network. `crashed`: calls to it fail ("connection
 * refused") and replies it had not sent yet are lost. `unresponsive`: it receives nothing and
 * answers nothing; calls to it stay pending until their signal aborts (a hung process, a
 * black-holed host).
 */
export type NodeFault = "crashed" | "unresponsive";

/** The receiving side the network delivers to (a `Replica`). */
export type ReplicaHandler = Pick<Replica, "write" | "readEncoded">;

/** Raised on the caller's side for a call to a crashed node. */
export class NodeDownError extends Error {
  override name = "NodeDownError";
  readonly nodeId: string;
  constructor(nodeId: string) {
    super(`node ${JSON.stringify(nodeId)} is down (connection refused)`);
    this.nodeId = nodeId;
  }
}

export interface InMemoryNetworkInit {
  /** Seeds drop and delay decisions. @default 1 */
  seed?: number;
  /** Schedules delayed messages. @default systemClock */
  clock?: Clock;
  /** @default createCodec() */
  codec?: Codec;
}

export interface NetworkCounters {
  /** Messages handed to the network (requests and replies). */
  sent: number;
  /** Messages lost to a link's dropRate. */
  dropped: number;
  /** Calls refused by a crashed node. */
  refused: number;
}

const ANY = "*";

/**
 * Every node of a simulated cluster in one process. Calls travel as bytes (sibling sets are
 * encoded by the sender and decoded by the receiver, as on the wire) and always asynchronously:
 * a message with no delay arrives in a later microtask, a delayed one through the clock. Faults
 * are per directed link (`setLink`) and per node (`setNodeFault`); the seeded RNG makes every
 * drop and delay decision, so with a ManualClock one seed gives one history.
 */
export class InMemoryNetwork {
  readonly random: SeededRandom;
  readonly counters: NetworkCounters = { sent: 0, dropped: 0, refused: 0 };
  private readonly clock: Clock;
  private readonly codec: Codec;
  private readonly handlers = new Map<string, ReplicaHandler>();
  private readonly links = new Map<string, LinkFault>();
  private readonly nodeFaults = new Map<string, NodeFault>();
  private inFlight = 0;

  constructor(init: InMemoryNetworkInit = {}) {
    this.random = new SeededRandom(init.seed ?? 1);
    this.clock = init.clock ?? systemClock;
    this.codec = init.codec ?? createCodec();
  }

  /** Messages on their way plus handlers running: 0 means nothing will happen without a caller. */
  get pending(): number {
    return this.inFlight;
  }

  /** Makes `nodeId` reachable, delivering to `handler`. */
  register(nodeId: string, handler: ReplicaHandler): void {
    this.handlers.set(nodeId, handler);
  }

  /**
   * Sets (or with `undefined` clears) the faults of the link `from` -> `to`. Either end may be
   * `"*"` (any node); the most specific rule wins (exact, then from-any, then any-to, then any).
   */
  setLink(from: string, to: string, fault: LinkFault | undefined): void {
    const id = `${from}\u0000${to}`;
    if (fault === undefined) this.links.delete(id);
    else this.links.set(id, { ...fault });
  }

  /** Sets (or clears) a node fault. */
  setNodeFault(nodeId: string, fault: NodeFault | undefined): void {
    if (fault === undefined) this.nodeFaults.delete(nodeId);
    else this.nodeFaults.set(nodeId, fault);
  }

  nodeFault(nodeId: string): NodeFault | undefined {
    return this.nodeFaults.get(nodeId);
  }

  /** Removes every link and node fault. */
  heal(): void {
    this.links.clear();
    this.nodeFaults.clear();
  }

  /** The transport node `fromId` uses to reach the others. */
  transport(fromId: string): ReplicaTransport {
    return {
      write: (
        nodeId: string,
        key: Uint8Array,
        payload: SiblingPayload,
        options: ReplicaWriteOptions,
      ) =>
        this.call<void>(fromId, nodeId, options, async (handler) => {
          const hintFor = options.hintFor;
          await handler.write(
            key.slice(),
            payload.bytes.slice(),
            hintFor === undefined ? {} : { hintFor },
          );
          return () => undefined;
        }),
      read: (nodeId: string, key: Uint8Array, options: ReplicaCallOptions) =>
        this.call<SiblingSet<Uint8Array> | undefined>(fromId, nodeId, options, async (handler) => {
          const bytes = await handler.readEncoded(key.slice());
          const copy = bytes?.slice();
          return () => (copy === undefined ? undefined : this.codec.decodeSiblingSet(copy));
        }),
    };
  }

  private linkFault(from: string, to: string): LinkFault | undefined {
    return (
      this.links.get(`${from}\u0000${to}`) ??
      this.links.get(`${from}\u0000${ANY}`) ??
      this.links.get(`${ANY}\u0000${to}`) ??
      this.links.get(`${ANY}\u0000${ANY}`)
    );
  }

  /** Sends one message on a link: `deliver` runs later unless the message is lost. */
  private send(from: string, to: string, deliver: () => void): void {
    this.counters.sent++;
    const fault = this.linkFault(from, to);
    if (fault?.dropRate !== undefined && this.random.chance(fault.dropRate)) {
      this.counters.dropped++;
      return;
    }
    const d = fault?.delayMs;
    const delay = d === undefined ? 0 : typeof d === "number" ? d : this.random.between(d[0], d[1]);
    this.inFlight++;
    const run = () => {
      this.inFlight--;
      deliver();
    };
    if (delay <= 0) queueMicrotask(run);
    else this.clock.schedule(run, delay);
  }

  private call<T>(
    from: string,
    to: string,
    options: ReplicaCallOptions,
    handle: (handler: ReplicaHandler) => Promise<() => T>,
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
      signal.addEventListener("abort", onAbort, { once: true });
      this.send(from, to, () => {
        const fault = this.nodeFaults.get(to);
        if (fault === "unresponsive") return;
        const handler = this.handlers.get(to);
        if (fault === "crashed" || handler === undefined) {
          this.counters.refused++;
          this.send(to, from, () => finish(() => reject(new NodeDownError(to))));
          return;
        }
        this.inFlight++;
        handle(handler).then(
          (result) => {
            this.inFlight--;
            // A node that crashed while handling never sends its reply.
            if (this.nodeFaults.has(to)) return;
            this.send(to, from, () =>
              finish(() => {
                try {
                  resolve(result());
                } catch (e) {
                  reject(e);
                }
              }),
            );
          },
          (error: unknown) => {
            this.inFlight--;
            if (this.nodeFaults.has(to)) return;
            this.send(to, from, () => finish(() => reject(error)));
          },
        );
      });
    });
  }
}
