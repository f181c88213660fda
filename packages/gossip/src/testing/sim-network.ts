import type { Clock } from "../clock.js";
import { GossipError } from "../errors.js";
import type { Transport, TransportHandler } from "../transport.js";
import { EventHeap } from "./event-heap.js";
import { SeededRandom } from "./seeded-random.js";

/** Conditions of a directed link (or the default for all links). */
export interface LinkConditions {
  /** Probability that a datagram is lost, in [0, 1]. Requests (streams) are never lost. @default 0 */
  lossProbability?: number;
  /** Smallest one-way delay in ms. @default 1 */
  minDelayMs?: number;
  /** Largest one-way delay in ms; each message draws uniformly in [min, max]. @default 1 */
  maxDelayMs?: number;
}

interface ResolvedLink {
  readonly lossProbability: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

export interface SimNetworkInit {
  /** Seeds every random choice of the network (loss, delays) and `randomFor` streams. */
  seed: number;
  /** Default conditions of every link. */
  link?: LinkConditions;
  /** The wall-clock time (ms since the epoch) that simulated time 0 maps to. @default 1_700_000_000_000 */
  epochMs?: number;
}

/** What the simulated network did, for tests and reports. */
export interface SimNetworkStats {
  /** Datagrams handed to `send`. */
  sent: number;
  delivered: number;
  /** Lost to `lossProbability`. */
  lost: number;
  /** Dropped by a partition, or addressed to nobody. */
  blocked: number;
  requests: number;
  events: number;
}

/** A request failed in the simulated network (peer down, refused, or it threw). */
export class SimNetworkError extends GossipError {
  override name = "SimNetworkError";
}

interface SimEvent {
  at: number;
  seq: number;
  /** The host whose code the event runs: held while it is paused, dropped once it crashed. */
  readonly host: SimHost | undefined;
  readonly run: () => void;
  /** A message delivery, as opposed to a timer: `resume` runs these after the timers. */
  readonly delivery: boolean;
  cancelled: boolean;
}

class SimHost {
  paused = false;
  crashed = false;
  handler: TransportHandler | undefined;
  /** Events that came due while paused, in due order. */
  held: SimEvent[] = [];
  constructor(readonly address: string) {}
}

function resolveLink(c: LinkConditions, base?: ResolvedLink): ResolvedLink {
  const lossProbability = c.lossProbability ?? base?.lossProbability ?? 0;
  const minDelayMs = c.minDelayMs ?? base?.minDelayMs ?? 1;
  const maxDelayMs = c.maxDelayMs ?? Math.max(minDelayMs, base?.maxDelayMs ?? 1);
  if (!(lossProbability >= 0 && lossProbability <= 1)) {
    throw new RangeError(`lossProbability must be in [0, 1], got ${lossProbability}`);
  }
  if (!(minDelayMs >= 0 && maxDelayMs >= minDelayMs && Number.isFinite(maxDelayMs))) {
    throw new RangeError(`need 0 <= minDelayMs <= maxDelayMs, got ${minDelayMs}, ${maxDelayMs}`);
  }
  return { lossProbability, minDelayMs, maxDelayMs };
}

function flushMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A deterministic in-process network with simulated time, for tests and simulations of whole
 * clusters: one seed gives one history. Each address gets a Clock and a Transport
 * (`clockFor`, `transportFor`); all timers and message deliveries run from one event queue in
 * (time, creation) order, and time only moves in `runFor` / `runUntil`.
 *
 * Faults: per-link loss and delay (`setDefaultLink`, `setLink`), partitions (`partition`,
 * `heal`), crashes (`crash`: the host's timers and pending messages vanish) and pauses
 * (`pause` / `resume`: like SIGSTOP / SIGCONT, the host runs nothing; messages for it wait;
 * on resume its overdue timers run first, late, then the waiting messages, as Node's event loop
 * runs expired timers before it polls the sockets).
 *
 * Requests (`Transport.request`) model a stream: never lost, delayed like datagrams, they hang
 * across a partition (until the caller aborts) and fail with SimNetworkError when the peer is
 * down or has no handler.
 */
export class SimNetwork {
  readonly seed: number;
  readonly epochMs: number;
  private readonly rng: SeededRandom;
  private readonly queue = new EventHeap<SimEvent>();
  private readonly hosts = new Map<string, SimHost>();
  private readonly links = new Map<string, ResolvedLink>();
  private readonly groups = new Map<string, number>();
  private defaultLink: ResolvedLink;
  private time = 0;
  private seq = 0;
  private needFlush = false;
  private readonly counters: SimNetworkStats = {
    sent: 0,
    delivered: 0,
    lost: 0,
    blocked: 0,
    requests: 0,
    events: 0,
  };

  constructor(init: SimNetworkInit) {
    this.seed = init.seed;
    this.rng = new SeededRandom(init.seed).fork("network");
    this.epochMs = init.epochMs ?? 1_700_000_000_000;
    this.defaultLink = resolveLink(init.link ?? {});
  }

  /** Simulated time elapsed since the start, in ms. */
  get elapsedMs(): number {
    return this.time;
  }

  /** Simulated wall-clock time (epochMs + elapsedMs). */
  nowMs(): number {
    return this.epochMs + this.time;
  }

  stats(): SimNetworkStats {
    return { ...this.counters };
  }

  /** A seeded random stream for a node or a test, independent of the network's own. */
  randomFor(label: string): () => number {
    return new SeededRandom(this.seed).fork(label).source;
  }

  // ---------------------------------------------------------------- hosts

  private hostFor(address: string): SimHost {
    let h = this.hosts.get(address);
    if (h === undefined) {
      h = new SimHost(address);
      this.hosts.set(address, h);
    }
    return h;
  }

  /** The clock of the host at `address` (created on first use). */
  clockFor(address: string): Clock {
    return {
      nowMs: () => this.nowMs(),
      schedule: (fn, delayMs) => {
        const e = this.enqueue(Math.max(0, delayMs), this.hostFor(address), fn);
        return () => {
          e.cancelled = true;
        };
      },
    };
  }

  /** The transport of the host at `address` (created on first use). */
  transportFor(address: string): Transport {
    return {
      send: (to, data) => this.send(address, to, data),
      request: (to, data, signal) => this.request(address, to, data, signal),
      listen: (handler) => {
        const host = this.hostFor(address);
        host.handler = handler;
        return () => {
          if (host.handler === handler) host.handler = undefined;
        };
      },
    };
  }

  /** The same transport without `request`: push-pull then travels as datagrams. */
  datagramTransportFor(address: string): Transport {
    const t = this.transportFor(address);
    return { send: t.send, listen: t.listen };
  }

  // ---------------------------------------------------------------- faults

  setDefaultLink(conditions: LinkConditions): void {
    this.defaultLink = resolveLink(conditions, this.defaultLink);
  }

  /** Conditions of the directed link from -> to (overrides the default). */
  setLink(from: string, to: string, conditions: LinkConditions): void {
    this.links.set(`${from}\u0000${to}`, resolveLink(conditions, this.linkOf(from, to)));
  }

  /**
   * Splits the network: addresses in different groups cannot reach each other (both ways);
   * addresses in no group reach everyone. Messages already in flight still arrive.
   */
  partition(...groups: readonly (readonly string[])[]): void {
    this.groups.clear();
    groups.forEach((g, i) => {
      for (const a of g) this.groups.set(a, i);
    });
  }

  /** Ends every partition. */
  heal(): void {
    this.groups.clear();
  }

  /** Whether a datagram from -> to would pass the partitions. */
  canReach(from: string, to: string): boolean {
    const a = this.groups.get(from);
    const b = this.groups.get(to);
    return a === undefined || b === undefined || a === b;
  }

  /** Freezes the host: it runs nothing until `resume`; messages for it wait. */
  pause(address: string): void {
    this.hostFor(address).paused = true;
  }

  /** Thaws the host: overdue timers run first (late), then the messages that waited. */
  resume(address: string): void {
    const h = this.hosts.get(address);
    if (h === undefined || !h.paused) return;
    h.paused = false;
    const held = h.held;
    h.held = [];
    const live = held.filter((e) => !e.cancelled);
    const timers = live.filter((e) => !e.delivery);
    const deliveries = live.filter((e) => e.delivery);
    // The same event objects go back, so a timer cancelled from now on stays cancelled.
    for (const e of [...timers, ...deliveries]) {
      e.at = this.time;
      e.seq = this.seq++;
      this.queue.push(e);
    }
  }

  isPaused(address: string): boolean {
    return this.hosts.get(address)?.paused ?? false;
  }

  /**
   * Kills the host: its timers and the messages waiting for it are gone, and it no longer
   * receives anything. A later `transportFor(address)` / `clockFor(address)` is a fresh host
   * (a restart on the same address).
   */
  crash(address: string): void {
    const h = this.hosts.get(address);
    if (h === undefined) return;
    h.crashed = true;
    h.handler = undefined;
    h.held = [];
    this.hosts.delete(address);
  }

  // ---------------------------------------------------------------- running

  /** Runs every event due within the next `ms` of simulated time; time ends `ms` later. */
  async runFor(ms: number): Promise<void> {
    await this.runUntilTime(this.time + ms, undefined);
  }

  /**
   * Runs until `done()` (checked after every event: keep it cheap) or until `maxMs` of
   * simulated time passed. Returns the simulated ms it took, or undefined if `done()` never held.
   */
  async runUntil(done: () => boolean, maxMs: number): Promise<number | undefined> {
    const start = this.time;
    if (done()) return 0;
    const hit = await this.runUntilTime(start + maxMs, done);
    return hit ? this.time - start : undefined;
  }

  private async runUntilTime(until: number, done: (() => boolean) | undefined): Promise<boolean> {
    await flushMacrotask();
    for (;;) {
      const e = this.queue.peek();
      if (e === undefined || e.at > until) break;
      this.queue.pop();
      if (e.cancelled) continue;
      if (e.at > this.time) this.time = e.at;
      this.dispatch(e);
      // Promise chains started by the event (push-pull replies, join) finish at this instant.
      if (this.needFlush) {
        this.needFlush = false;
        await flushMacrotask();
      } else {
        for (let i = 0; i < 8; i++) await undefined;
      }
      if (done?.()) return true;
    }
    this.time = until;
    await flushMacrotask();
    return false;
  }

  private dispatch(e: SimEvent): void {
    const h = e.host;
    if (h !== undefined) {
      if (h.crashed) return;
      if (h.paused) {
        h.held.push(e);
        return;
      }
    }
    this.counters.events++;
    e.run();
  }

  private enqueue(
    delayMs: number,
    host: SimHost | undefined,
    run: () => void,
    delivery = false,
  ): SimEvent {
    const e: SimEvent = {
      at: this.time + delayMs,
      seq: this.seq++,
      host,
      run,
      delivery,
      cancelled: false,
    };
    this.queue.push(e);
    return e;
  }

  // ---------------------------------------------------------------- messages

  private linkOf(from: string, to: string): ResolvedLink {
    return this.links.get(`${from}\u0000${to}`) ?? this.defaultLink;
  }

  private delay(link: ResolvedLink): number {
    return link.minDelayMs + this.rng.next() * (link.maxDelayMs - link.minDelayMs);
  }

  private send(from: string, to: string, data: Uint8Array): void {
    this.counters.sent++;
    const dst = this.hosts.get(to);
    if (dst === undefined || !this.canReach(from, to)) {
      this.counters.blocked++;
      return;
    }
    const link = this.linkOf(from, to);
    if (this.rng.chance(link.lossProbability)) {
      this.counters.lost++;
      return;
    }
    const copy = data.slice();
    this.enqueue(
      this.delay(link),
      dst,
      () => {
        this.counters.delivered++;
        dst.handler?.onMessage(from, copy);
      },
      true,
    );
  }

  private request(
    from: string,
    to: string,
    data: Uint8Array,
    signal: AbortSignal,
  ): Promise<Uint8Array> {
    this.counters.requests++;
    return new Promise<Uint8Array>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        this.needFlush = true;
        fn();
      };
      const onAbort = (): void => settle(() => reject(signal.reason));
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener("abort", onAbort, { once: true });
      const src = this.hostFor(from);
      const fail = (message: string): void => {
        // The refusal travels back like a reply.
        this.enqueue(
          this.delay(this.linkOf(to, from)),
          src,
          () => settle(() => reject(new SimNetworkError(message))),
          true,
        );
      };
      if (!this.canReach(from, to)) return; // hangs, as a connect across a partition does
      const copy = data.slice();
      const dst = this.hosts.get(to);
      if (dst === undefined) {
        fail(`nothing listens at ${to}`);
        return;
      }
      this.enqueue(
        this.delay(this.linkOf(from, to)),
        dst,
        () => {
          if (dst.handler === undefined) {
            fail(`${to} has no handler`);
            return;
          }
          let reply: Uint8Array;
          try {
            reply = dst.handler.onRequest(from, copy).slice();
          } catch (error) {
            fail(`${to} failed the request: ${error instanceof Error ? error.message : error}`);
            return;
          }
          if (!this.canReach(to, from)) return;
          this.enqueue(
            this.delay(this.linkOf(to, from)),
            src,
            () => settle(() => resolve(reply)),
            true,
          );
        },
        true,
      );
    });
  }
}
