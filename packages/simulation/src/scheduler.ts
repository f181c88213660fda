import { EventHeap } from "@distkv/gossip/testing";
import { InvalidSimulationOptionsError } from "./errors.js";

/**
 * Who an event belongs to. Events of a process that has died never run: a crashed node's timers,
 * the messages it would have received and the replies it would have sent all vanish with it.
 */
export interface EventOwner {
  /** False once the process crashed or stopped; its pending events are then skipped. */
  readonly alive: boolean;
  /** A small number that names the owner in the trace (node index and incarnation). */
  readonly traceId: number;
}

interface SimEvent {
  readonly at: number;
  readonly seq: number;
  readonly owner: EventOwner | undefined;
  readonly kind: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Resolves once every microtask queued so far, and every one those queue, has run. */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A 64-bit running hash kept as two 32-bit lanes (FNV-style multiply-xor per lane with
 * different primes). Fast enough to fold in every event of a run.
 */
export class TraceHash {
  private hi = 0x811c9dc5;
  private lo = 0x01000193;

  /** Folds in one integer (any safe integer; larger ones are split). */
  add(n: number): void {
    const low = n >>> 0;
    const high = Math.floor(n / 4294967296) >>> 0;
    this.lo = Math.imul(this.lo ^ low, 0x01000193) >>> 0;
    this.lo = Math.imul(this.lo ^ high, 0x01000193) >>> 0;
    this.hi = Math.imul(this.hi ^ low, 0x5bd1e995) >>> 0;
    this.hi = Math.imul(this.hi ^ (high + 0x9e3779b9), 0x5bd1e995) >>> 0;
    this.hi = (this.hi ^ (this.lo >>> 13)) >>> 0;
  }

  /** Folds in a string, character by character. */
  addString(s: string): void {
    this.add(s.length);
    for (let i = 0; i < s.length; i++) this.add(s.charCodeAt(i));
  }

  /** The hash as 16 hex digits. */
  digest(): string {
    return this.hi.toString(16).padStart(8, "0") + this.lo.toString(16).padStart(8, "0");
  }
}

/**
 * Simulated time and the single event queue of a simulation. Everything that would take time in
 * a real cluster (timers of every component, message deliveries, disk syncs, client think time,
 * faults) is an event here, run in (time, creation) order. After each event the scheduler lets
 * every microtask it caused finish before the next event starts, so an event's consequences
 * happen "at" its instant. Time moves only from event to event: a run never waits for real time.
 *
 * Determinism: with no real I/O and no real timers in the code under test, the same sequence of
 * `schedule` calls gives the same sequence of events. Every dispatched event is folded into a
 * trace hash (time, kind, owner), which tests compare across runs of one seed.
 */
export class Scheduler {
  private time = 0;
  private seq = 0;
  private readonly queue = new EventHeap<SimEvent>();
  private readonly kinds = new Map<string, number>();
  private readonly trace = new TraceHash();
  private dispatched = 0;

  /** Simulated milliseconds since the start of the run (an integer). */
  get nowMs(): number {
    return this.time;
  }

  /** Events run so far. */
  get eventsRun(): number {
    return this.dispatched;
  }

  /** Events waiting (cancelled ones included until they come up). */
  get pending(): number {
    return this.queue.size;
  }

  /**
   * Runs `fn` after `delayMs` (floored to whole ms, at least 0) unless cancelled or its owner
   * died meanwhile. `kind` names the event in the trace. Returns a function that cancels it.
   */
  schedule(
    delayMs: number,
    owner: EventOwner | undefined,
    kind: string,
    fn: () => void,
  ): () => void {
    if (!Number.isFinite(delayMs)) {
      throw new InvalidSimulationOptionsError(`event delay must be finite, got ${delayMs}`);
    }
    const e: SimEvent = {
      at: this.time + Math.max(0, Math.floor(delayMs)),
      seq: this.seq++,
      owner,
      kind: this.kindId(kind),
      fn,
      cancelled: false,
    };
    this.queue.push(e);
    return () => {
      e.cancelled = true;
    };
  }

  /** Folds a fact of the run (an operation's outcome, a fault) into the trace hash. */
  note(fact: string): void {
    this.trace.addString(fact);
  }

  /** The trace hash so far: equal for two runs exactly when they dispatched the same events. */
  traceHash(): string {
    return this.trace.digest();
  }

  /**
   * Runs events until `done()` holds (checked after every event) or until `maxMs` of simulated
   * time passed; returns whether `done()` held. Time ends at the event that satisfied `done`,
   * or `maxMs` later.
   */
  async runUntil(done: () => boolean, maxMs: number): Promise<boolean> {
    const until = this.time + maxMs;
    await drainMicrotasks();
    if (done()) return true;
    for (;;) {
      const e = this.queue.peek();
      if (e === undefined || e.at > until) break;
      this.queue.pop();
      if (!this.dispatch(e)) continue;
      await drainMicrotasks();
      if (done()) return true;
    }
    this.time = Math.max(this.time, until);
    await drainMicrotasks();
    return done();
  }

  /** Runs every event due in the next `ms` of simulated time. */
  async runFor(ms: number): Promise<void> {
    await this.runUntil(() => false, ms);
  }

  private dispatch(e: SimEvent): boolean {
    if (e.cancelled) return false;
    if (e.owner !== undefined && !e.owner.alive) return false;
    if (e.at > this.time) this.time = e.at;
    this.dispatched++;
    this.trace.add(e.at);
    this.trace.add(e.kind);
    this.trace.add(e.owner?.traceId ?? 0);
    e.fn();
    return true;
  }

  private kindId(kind: string): number {
    let id = this.kinds.get(kind);
    if (id === undefined) {
      id = this.kinds.size + 1;
      this.kinds.set(kind, id);
    }
    return id;
  }
}
