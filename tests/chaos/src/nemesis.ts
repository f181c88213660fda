import { HashRing } from "@distkv/ring";
import type { LinkFaultSpec, NodeRunState } from "./cluster.js";
import type { Random } from "./random.js";
import { sleep } from "./workload-context.js";

/**
 * What the nemesis does:
 * - `partition`: the nodes split into two random halves that cannot reach each other (link
 *   faults with drop probability 1 on both sides), then heal;
 * - `kill`: SIGKILL a random node, then restart it on its data dir;
 * - `pause`: SIGSTOP the coordinator (first replica) of a key the clients are using, then SIGCONT;
 * - `skew`: restart a random node (SIGTERM) with a new clock offset of tens of seconds, ahead or
 *   behind; the offset stays until the node is skewed again.
 */
export type FaultKind = "partition" | "kill" | "pause" | "skew";

export const FAULT_KINDS: readonly FaultKind[] = Object.freeze([
  "partition",
  "kill",
  "pause",
  "skew",
]);

/** What the nemesis needs of a cluster ({@link ChaosCluster} in a run, a fake in unit tests). */
export interface NemesisTarget {
  readonly ids: readonly string[];
  node(id: string): { readonly clockOffsetMs: number; readonly starts: number };
  inState(state: NodeRunState): string[];
  kill(id: string): Promise<void>;
  stop(id: string): Promise<void>;
  restart(id: string, options?: { clockOffsetMs?: number }): Promise<void>;
  pause(id: string): void;
  resume(id: string): void;
  setLinkFaults(
    id: string,
    faults: readonly LinkFaultSpec[],
  ): Promise<{ droppedTotal: number; delayedTotal: number }>;
}

/** One fault as it happened (times on the run's clock). */
export interface FaultEvent {
  readonly kind: FaultKind;
  /** The nodes it hit: the first half of a partition, the killed/paused/skewed node. */
  readonly nodes: readonly string[];
  readonly detail: string;
  readonly startMs: number;
  /** When it was healed; null while active. A skew is instantaneous (start = end). */
  endMs: number | null;
}

export interface NemesisOptions {
  /** Kinds to inject, each round in a random order. Empty: the nemesis does nothing. */
  readonly kinds: readonly FaultKind[];
  /** How long a partition, kill or pause lasts, [min, max] ms. */
  readonly holdMs: readonly [number, number];
  /** How long a pause lasts, [min, max] ms (shorter: gossip would declare the node dead). */
  readonly pauseMs: readonly [number, number];
  /** Quiet time between two faults, [min, max] ms. */
  readonly gapMs: readonly [number, number];
  /** Magnitude of clock offsets, [min, max] ms; the sign is random. */
  readonly skewMs: readonly [number, number];
  /** Replicas per key, to find a key's coordinator. */
  readonly replicas: number;
  /** The run's clock. */
  readonly now: () => number;
  /** A key the clients are working on right now (for `pause`). */
  readonly pickKey: (random: Random) => string | undefined;
  /** Progress lines. */
  readonly log: (line: string) => void;
}

/** A signed offset of tens of seconds. */
export function randomSkewMs(random: Random, range: readonly [number, number]): number {
  const magnitude = random.int(range[0], range[1]);
  return random.chance(0.5) ? magnitude : -magnitude;
}

/**
 * Injects one fault at a time into a cluster until stopped, recording each, and
 * heals everything on request. Choices come from the seeded random source; each round of
 * `kinds.length` faults uses every kind once, so a short run still sees all of them.
 */
export class Nemesis {
  readonly events: FaultEvent[] = [];
  /** Errors while injecting or healing (a fault that could not be applied is skipped). */
  readonly errors: string[] = [];
  /** How long each restart took (ms): kills, skews and healing. */
  readonly restartMs: number[] = [];
  private dropped = 0;
  private readonly droppedSeen = new Map<string, { starts: number; total: number }>();
  private readonly ring = new HashRing();
  private bag: FaultKind[] = [];
  private rounds = 0;

  constructor(
    private readonly cluster: NemesisTarget,
    private readonly random: Random,
    private readonly options: NemesisOptions,
  ) {
    for (const id of cluster.ids) this.ring.addNode(id);
  }

  /** Peer calls the link faults dropped, over every process of every node. */
  get droppedCalls(): number {
    return this.dropped;
  }

  /** Rounds completed: each injected (and healed) every kind once. */
  get roundsCompleted(): number {
    return this.rounds;
  }

  /** Faults injected, by kind. */
  counts(): Record<FaultKind, number> {
    const out = { partition: 0, kill: 0, pause: 0, skew: 0 };
    for (const e of this.events) out[e.kind]++;
    return out;
  }

  /** The coordinator of `key` when every node is up: the first node of its preference list. */
  coordinatorOf(key: string): string {
    return this.ring.preferenceList(key, this.options.replicas)[0]!;
  }

  /**
   * Injects faults until `signal` aborts; the fault in progress is then healed at once. Never
   * throws: a step that fails is recorded in `errors` and the next one is tried.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.options.kinds.length === 0) return;
    while (!signal.aborted) {
      await sleep(this.random.int(...this.options.gapMs), signal);
      if (signal.aborted) break;
      if (this.bag.length === 0) this.bag = this.random.shuffle(this.options.kinds);
      const kind = this.bag.shift()!;
      try {
        await this.inject(kind, signal);
      } catch (e) {
        this.errors.push(`${kind}: ${(e as Error).message}`);
        this.options.log(`nemesis: ${kind} failed: ${(e as Error).message}`);
        await this.heal();
      }
      if (this.bag.length === 0) this.rounds++;
    }
  }

  private async inject(kind: FaultKind, signal: AbortSignal): Promise<void> {
    const { cluster, random, options } = this;
    const ids = cluster.ids;
    switch (kind) {
      case "partition": {
        const shuffled = random.shuffle(ids);
        const half = Math.floor(ids.length / 2);
        const a = shuffled.slice(0, half);
        const b = shuffled.slice(half);
        const event = this.begin(kind, a, `${a.join(",")} | ${b.join(",")}`);
        const cut = (to: string[]) => to.map((nodeId) => ({ nodeId, dropProbability: 1 }));
        await Promise.all([
          ...a.map((id) => this.setLinks(id, cut(b))),
          ...b.map((id) => this.setLinks(id, cut(a))),
        ]);
        await sleep(random.int(...options.holdMs), signal);
        await this.clearLinks(ids);
        this.end(event);
        return;
      }
      case "kill": {
        const id = random.pick(ids);
        const event = this.begin(kind, [id], `SIGKILL ${id}`);
        await cluster.kill(id);
        await sleep(random.int(...options.holdMs), signal);
        await this.restart(id);
        this.end(event);
        return;
      }
      case "pause": {
        const key = options.pickKey(random);
        const id = key === undefined ? random.pick(ids) : this.coordinatorOf(key);
        const event = this.begin(
          kind,
          [id],
          key === undefined ? `SIGSTOP ${id}` : `SIGSTOP ${id}, coordinator of ${key}`,
        );
        cluster.pause(id);
        await sleep(random.int(...options.pauseMs), signal);
        cluster.resume(id);
        this.end(event);
        return;
      }
      case "skew": {
        const id = random.pick(ids);
        const offset = randomSkewMs(random, options.skewMs);
        const before = cluster.node(id).clockOffsetMs;
        const event = this.begin(kind, [id], `${id} clock ${before} -> ${offset} ms (restart)`);
        await cluster.stop(id);
        await this.restart(id, offset);
        this.end(event);
        return;
      }
    }
  }

  /**
   * Heals everything: resumes paused nodes, restarts stopped ones, clears every link fault.
   * Retries each step a few times; what still fails is recorded in `errors`.
   */
  async heal(): Promise<void> {
    const { cluster } = this;
    for (const id of cluster.inState("paused")) cluster.resume(id);
    for (const id of cluster.inState("killed")) {
      try {
        await this.restart(id);
      } catch (e) {
        this.errors.push(`heal: restart ${id}: ${(e as Error).message}`);
      }
    }
    await this.clearLinks(cluster.ids);
    for (const e of this.events) if (e.endMs === null) this.end(e);
  }

  private async restart(id: string, clockOffsetMs?: number): Promise<void> {
    const t = performance.now();
    await this.cluster.restart(id, clockOffsetMs === undefined ? {} : { clockOffsetMs });
    this.restartMs.push(performance.now() - t);
  }

  private async clearLinks(ids: readonly string[]): Promise<void> {
    await Promise.all(
      ids.map(async (id) => {
        try {
          const r = await this.setLinks(id, []);
          this.countDropped(id, r.droppedTotal);
        } catch (e) {
          this.errors.push(`heal: clear links of ${id}: ${(e as Error).message}`);
        }
      }),
    );
  }

  /** setLinkFaults with a few retries: a busy node may miss the admin call's deadline. */
  private async setLinks(
    id: string,
    faults: readonly LinkFaultSpec[],
  ): Promise<{ droppedTotal: number }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.cluster.setLinkFaults(id, faults);
      } catch (e) {
        if (attempt >= 5) throw e;
        await sleep(200 * attempt);
      }
    }
  }

  private countDropped(id: string, total: number): void {
    const starts = this.cluster.node(id).starts;
    const seen = this.droppedSeen.get(id);
    const base = seen !== undefined && seen.starts === starts ? seen.total : 0;
    this.dropped += Math.max(0, total - base);
    this.droppedSeen.set(id, { starts, total });
  }

  private begin(kind: FaultKind, nodes: readonly string[], detail: string): FaultEvent {
    const event: FaultEvent = { kind, nodes, detail, startMs: this.options.now(), endMs: null };
    this.events.push(event);
    this.options.log(`nemesis: ${kind} ${detail}`);
    return event;
  }

  private end(event: FaultEvent): void {
    event.endMs = this.options.now();
  }
}

/**
 * Time windows in which a node was frozen (SIGSTOP), per node: an operation sent to a frozen
 * node cannot be answered by anyone, so the deadline check leaves those out.
 */
export function pauseWindows(
  events: readonly FaultEvent[],
  endOfRunMs: number,
): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const e of events) {
    if (e.kind !== "pause") continue;
    for (const id of e.nodes) {
      if (!out.has(id)) out.set(id, []);
      out.get(id)!.push([e.startMs, e.endMs ?? endOfRunMs]);
    }
  }
  return out;
}
