/**
 * Cluster scenarios on the simulated network, shared by the simulation tests (few seeds, with
 * assertions) and `bench/simulate.ts` (many seeds, printing the distributions for the README).
 * Every scenario is a pure function of its seed and network case.
 */
import type { GossipConfig } from "../src/index.js";
import { isAliveStatus } from "../src/index.js";
import { SeededRandom, SimCluster } from "../src/testing/index.js";

export interface NetworkCase {
  readonly nodes: number;
  /** Datagram loss probability on every link. */
  readonly loss: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly config?: GossipConfig;
}

export const LAN_64_LOSSY: NetworkCase = { nodes: 64, loss: 0.1, minDelayMs: 1, maxDelayMs: 10 };
export const LAN_64_CLEAN: NetworkCase = { nodes: 64, loss: 0, minDelayMs: 1, maxDelayMs: 10 };

/** A bootstrapped cluster of `c.nodes` nodes, converged. */
export async function cluster(
  seed: number,
  c: NetworkCase,
): Promise<{ sim: SimCluster; ids: string[] }> {
  const sim = new SimCluster({
    seed,
    link: { lossProbability: c.loss, minDelayMs: c.minDelayMs, maxDelayMs: c.maxDelayMs },
    ...(c.config === undefined ? {} : { config: c.config }),
  });
  const ids = await sim.bootstrap(c.nodes);
  return { sim, ids };
}

/**
 * Tracks, for one subject, which observers currently see it in a status accepted by `accept`
 * (kept up to date by events), so "everyone knows" is an O(1) check after every event.
 */
export class KnowledgeTracker {
  private readonly knowing = new Set<string>();
  /** Simulated time at which every observer first knew, if that happened. */
  allKnewAtMs: number | undefined;

  constructor(
    sim: SimCluster,
    observers: readonly string[],
    private readonly subject: string,
    accept: (status: string | undefined) => boolean,
  ) {
    for (const o of observers) {
      if (accept(sim.statusOf(o, subject))) this.knowing.add(o);
      sim.node(o).subscribe((e) => {
        if (e.member.id !== this.subject) return;
        const status = e.type === "remove" ? undefined : e.member.status;
        if (accept(status)) this.knowing.add(o);
        else this.knowing.delete(o);
        if (this.knowing.size === observers.length) this.allKnewAtMs ??= sim.network.elapsedMs;
      });
    }
  }

  count(): number {
    return this.knowing.size;
  }

  knows(observer: string): boolean {
    return this.knowing.has(observer);
  }
}

/** Counts `dead` events about members that were in fact running (false positives). */
export function countFalseDeaths(sim: SimCluster, ids: readonly string[]): () => number {
  let n = 0;
  for (const o of ids) {
    sim.node(o).on("dead", (e) => {
      if (sim.runningIds().includes(e.member.id)) n++;
    });
  }
  return () => n;
}

export interface JoinResult {
  /** From the newcomer's join() call until every member sees it alive; undefined: never. */
  readonly allKnowMs: number | undefined;
}

/** A converged cluster; a new node joins through one random member. */
export async function joinScenario(seed: number, c: NetworkCase): Promise<JoinResult> {
  const { sim, ids } = await cluster(seed, c);
  const rng = new SeededRandom(seed).fork("join");
  await sim.network.runFor(rng.int(1000));
  const seedNode = ids[rng.int(ids.length)]!;
  const tracker = new KnowledgeTracker(
    sim,
    ids,
    "newcomer",
    (s) => s !== undefined && isAliveStatus(s as never),
  );
  sim
    .start("newcomer")
    .join([sim.addressOf(seedNode)])
    .catch(() => {});
  const allKnowMs = await sim.network.runUntil(() => tracker.count() === ids.length, 120_000);
  return { allKnowMs };
}

export interface DeathResult {
  /** From the crash until the first member suspects the victim. */
  readonly firstSuspectMs: number | undefined;
  /** From the crash until the first member declares it dead. */
  readonly firstDeadMs: number | undefined;
  /** From the crash until every live member has it dead. */
  readonly allDeadMs: number | undefined;
  readonly falseDeaths: number;
}

/** A converged cluster; one random member crashes (SIGKILL). */
export async function deathScenario(seed: number, c: NetworkCase): Promise<DeathResult> {
  const { sim, ids } = await cluster(seed, c);
  const rng = new SeededRandom(seed).fork("death");
  await sim.network.runFor(2000 + rng.int(3000));
  const victim = ids[rng.int(ids.length)]!;
  const live = ids.filter((i) => i !== victim);
  const falseDeaths = countFalseDeaths(sim, live);
  const dead = new KnowledgeTracker(sim, live, victim, (s) => s === "dead");
  let firstSuspect: number | undefined;
  let firstDead: number | undefined;
  const t0 = sim.network.elapsedMs;
  for (const o of live) {
    sim.node(o).on("suspect", (e) => {
      if (e.member.id === victim) firstSuspect ??= sim.network.elapsedMs - t0;
    });
    sim.node(o).on("dead", (e) => {
      if (e.member.id === victim) firstDead ??= sim.network.elapsedMs - t0;
    });
  }
  sim.crash(victim);
  const allDeadMs = await sim.network.runUntil(() => dead.count() === live.length, 180_000);
  return {
    firstSuspectMs: firstSuspect,
    firstDeadMs: firstDead,
    allDeadMs,
    falseDeaths: falseDeaths(),
  };
}

export interface StabilityResult {
  readonly suspectEvents: number;
  readonly refutations: number;
  readonly falseDeaths: number;
  readonly datagrams: number;
}

/** A converged cluster where nothing fails, run for `durationMs` (loss makes probes fail). */
export async function stabilityScenario(
  seed: number,
  c: NetworkCase,
  durationMs: number,
): Promise<StabilityResult> {
  const { sim, ids } = await cluster(seed, c);
  const falseDeaths = countFalseDeaths(sim, ids);
  let suspectEvents = 0;
  for (const o of ids) sim.node(o).on("suspect", () => suspectEvents++);
  const before = sim.network.stats().sent;
  await sim.network.runFor(durationMs);
  let refutations = 0;
  for (const o of ids) refutations += sim.node(o).stats().refutations;
  return {
    suspectEvents,
    refutations,
    falseDeaths: falseDeaths(),
    datagrams: sim.network.stats().sent - before,
  };
}

export interface PauseResult {
  /** Members that declared the paused node dead at some point. */
  readonly declaredDeadBy: number;
  /** Members the paused node declared dead after it resumed. */
  readonly declaredByVictim: number;
  /** Members that suspected it. */
  readonly suspectedBy: number;
  /** Probes of the paused node that failed in the first probe interval after it resumed. */
  readonly failedProbesOnResume: number;
  /** From the resume until every member sees it alive again. */
  readonly recoveredMs: number | undefined;
}

/**
 * A converged cluster; one member is paused (SIGSTOP) for `pauseMs`, then resumed. The pause
 * starts just after the member sent a probe, the worst moment: the ack arrives while it is
 * paused, and on resume the probe's deadline has long passed.
 */
export async function pauseScenario(
  seed: number,
  c: NetworkCase,
  pauseMs: number,
): Promise<PauseResult> {
  const { sim, ids } = await cluster(seed, c);
  const rng = new SeededRandom(seed).fork("pause");
  await sim.network.runFor(2000 + rng.int(3000));
  const victim = ids[rng.int(ids.length)]!;
  const probes = sim.node(victim).stats().probes;
  await sim.network.runUntil(() => sim.node(victim).stats().probes > probes, 10_000);
  const others = ids.filter((i) => i !== victim);
  const deadBy = new Set<string>();
  const suspectBy = new Set<string>();
  for (const o of others) {
    sim.node(o).on("dead", (e) => {
      if (e.member.id === victim) deadBy.add(o);
    });
    sim.node(o).on("suspect", (e) => {
      if (e.member.id === victim) suspectBy.add(o);
    });
  }
  let declaredByVictim = 0;
  sim.node(victim).on("dead", () => declaredByVictim++);
  const alive = new KnowledgeTracker(
    sim,
    others,
    victim,
    (s) => s !== undefined && isAliveStatus(s as never),
  );
  sim.pause(victim);
  await sim.network.runFor(pauseMs);
  const failuresBefore = sim.node(victim).stats().probeFailures;
  sim.resume(victim);
  const resumedAt = sim.network.elapsedMs;
  let recoveredMs = await sim.network.runUntil(
    () => alive.count() === others.length,
    sim.node(victim).config.probeIntervalMs,
  );
  await sim.network.runFor(
    resumedAt + sim.node(victim).config.probeIntervalMs - sim.network.elapsedMs,
  );
  const failedProbesOnResume = sim.node(victim).stats().probeFailures - failuresBefore;
  if (recoveredMs === undefined) {
    const more = await sim.network.runUntil(() => alive.count() === others.length, 120_000);
    recoveredMs = more === undefined ? undefined : sim.network.elapsedMs - resumedAt;
  }
  // Long enough for any suspicion started before the resume to have expired.
  await sim.network.runFor(60_000);
  return {
    declaredDeadBy: deadBy.size,
    declaredByVictim,
    suspectedBy: suspectBy.size,
    failedProbesOnResume,
    recoveredMs,
  };
}

export interface PartitionResult {
  /** Whether each side had declared the other dead before the heal. */
  readonly sidesSplit: boolean;
  /** From the heal until every member sees every member alive. */
  readonly convergeMs: number | undefined;
  /** Dead events about members of the same side (false positives). */
  readonly sameSideDeaths: number;
}

/** A converged cluster split in two halves for `partitionMs`, then healed. */
export async function partitionScenario(
  seed: number,
  c: NetworkCase,
  partitionMs: number,
): Promise<PartitionResult> {
  const { sim, ids } = await cluster(seed, c);
  const half = Math.floor(ids.length / 2);
  const a = ids.slice(0, half);
  const b = ids.slice(half);
  let sameSideDeaths = 0;
  for (const side of [a, b]) {
    for (const o of side) {
      sim.node(o).on("dead", (e) => {
        if (side.includes(e.member.id)) sameSideDeaths++;
      });
    }
  }
  sim.network.partition(
    a.map((i) => sim.addressOf(i)),
    b.map((i) => sim.addressOf(i)),
  );
  await sim.network.runFor(partitionMs);
  const sidesSplit =
    a.every((o) => b.every((s) => sim.statusOf(o, s) === "dead")) &&
    b.every((o) => a.every((s) => sim.statusOf(o, s) === "dead"));
  sim.network.heal();
  const convergeMs = await sim.network.runUntil(() => sim.converged(), 300_000);
  return { sidesSplit, convergeMs, sameSideDeaths };
}

export interface LeaveResult {
  /** Whether `leave()` resolved true (the update went out retransmit-limit times). */
  readonly propagated: boolean;
  /** From the leave() call until every other member sees it left. */
  readonly allKnowMs: number | undefined;
  /** Dead events about the leaver (a left member must not be declared dead). */
  readonly deadEvents: number;
}

/** A converged cluster; one member leaves gracefully, then stops. */
export async function leaveScenario(seed: number, c: NetworkCase): Promise<LeaveResult> {
  const { sim, ids } = await cluster(seed, c);
  const rng = new SeededRandom(seed).fork("leave");
  await sim.network.runFor(1000 + rng.int(2000));
  const leaver = ids[rng.int(ids.length)]!;
  const others = ids.filter((i) => i !== leaver);
  let deadEvents = 0;
  for (const o of others) {
    sim.node(o).on("dead", (e) => {
      if (e.member.id === leaver) deadEvents++;
    });
  }
  const left = new KnowledgeTracker(sim, others, leaver, (s) => s === "left");
  const t0 = sim.network.elapsedMs;
  const propagated = await sim.settle(sim.node(leaver).leave());
  sim.node(leaver).stop();
  await sim.network.runUntil(() => left.count() === others.length, 120_000);
  const allKnowMs = left.allKnewAtMs === undefined ? undefined : left.allKnewAtMs - t0;
  // Longer than any suspicion that could have started about it.
  await sim.network.runFor(45_000);
  return { propagated, allKnowMs, deadEvents };
}

/** The q-quantile (0..1) of numbers, by nearest rank; undefined entries count as +Infinity. */
export function quantile(values: readonly (number | undefined)[], q: number): number {
  const sorted = values.map((v) => v ?? Number.POSITIVE_INFINITY).sort((x, y) => x - y);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}
