import type { GossipConfig } from "@distkv/gossip";
import { checkHistory, HistoryRecorder, type HistoryReport, type Operation } from "@distkv/history";
import { HashRing } from "@distkv/ring";
import { coversDot, createCodec, EMPTY_SIBLING_SET, equals, type SiblingSet } from "@distkv/vclock";
import { isUsable } from "./membership.js";
import { type FaultCounters, Nemesis } from "./nemesis.js";
import { CALM_LINK, type NetworkCounters, SimNetwork } from "./network.js";
import { SimNode } from "./node.js";
import {
  type ResolvedSimulationOptions,
  resolveSimulationOptions,
  type SimulationOptions,
} from "./options.js";
import { between, SeededRandom } from "./random.js";
import { Scheduler } from "./scheduler.js";
import { SimDisk } from "./storage.js";
import { unionOfSiblings, Workload, type WorkloadCounters } from "./workload.js";

/** Wall-clock time that simulated time 0 maps to (before each node's skew). */
const EPOCH_MS = 1_750_000_000_000;

/**
 * Gossip tuned for a small simulated cluster: failures are suspected within about a second and
 * declared within 1.5-9 s, so membership changes several times while the workload runs.
 */
const GOSSIP_CONFIG: GossipConfig = {
  preset: "local",
  probeIntervalMs: 500,
  probeTimeoutMs: 150,
  suspicionMultiplier: 3,
  gossipIntervalMs: 100,
  pushPullIntervalMs: 5000,
  pushPullTimeoutMs: 1000,
  reconnectIntervalMs: 2000,
};

/** fsyncs take 0-3 ms; replica reads 0-3 ms (a lookup that goes to disk). */
const DISK_LATENCY = { syncMs: [0, 3], readMs: [0, 3] } as const;

/** Simulated time allowed for each phase before the run reports that it did not converge. */
const BOOT_LIMIT_MS = 60_000;
const SETTLE_LIMIT_MS = 120_000;
const FINAL_READ_ATTEMPTS = 5;

/**
 * Kinds of anomalies a run can report: the history checkers' (`lost`, `unexpected`,
 * `failed-present` of the set checker; `read-your-writes`, `monotonic-reads` of the session
 * checker; `late`, `unfinished` of the deadline checker) and the simulation's own convergence
 * checks.
 */
export type SimulationAnomalyKind =
  | "lost"
  | "unexpected"
  | "failed-present"
  | "read-your-writes"
  | "monotonic-reads"
  | "late"
  | "unfinished"
  /**
   * A read missed an acknowledged write although their quorums overlapped: the write's own
   * replicas' acknowledgements plus the read's replies exceeded N (README: "reads see
   * acknowledged writes when R + W > N and the quorums are strict").
   */
  | "stale-quorum-read"
  /** Replicas of a key hold different sibling sets after healing and read repair. */
  | "diverged"
  /** A node stores replica data for a key it is not a replica of. */
  | "stray-data"
  /** Hints were still waiting after healing. */
  | "hints-left"
  /** Membership did not converge (every node seeing every other alive) within the limit. */
  | "no-convergence"
  /** A final read of a key failed even after healing. */
  | "final-read-failed"
  /** A node's database did not recover after a power loss. */
  | "storage-recovery"
  /** The workload itself threw (a bug in the simulation or an API contract broken). */
  | "workload-error";

export const SIMULATION_ANOMALY_KINDS: readonly SimulationAnomalyKind[] = Object.freeze([
  "lost",
  "unexpected",
  "failed-present",
  "read-your-writes",
  "monotonic-reads",
  "late",
  "unfinished",
  "stale-quorum-read",
  "diverged",
  "stray-data",
  "hints-left",
  "no-convergence",
  "final-read-failed",
  "storage-recovery",
  "workload-error",
]);

/** One anomaly, with a one-line description. */
export interface SimulationAnomaly {
  readonly kind: SimulationAnomalyKind;
  readonly message: string;
}

/** The outcome of one seed. */
export interface SimulationResult {
  readonly options: ResolvedSimulationOptions;
  /** No anomaly. */
  readonly ok: boolean;
  readonly anomalies: readonly SimulationAnomaly[];
  /** Anomalies by kind (every kind present). */
  readonly counts: Readonly<Record<SimulationAnomalyKind, number>>;
  /** The history checkers' report (sets, sessions, deadlines). */
  readonly report: HistoryReport;
  readonly history: readonly Operation[];
  readonly workload: WorkloadCounters;
  readonly faults: FaultCounters;
  readonly network: NetworkCounters;
  /** Simulated time the run took, ms. */
  readonly simulatedMs: number;
  /** Scheduler events dispatched. */
  readonly events: number;
  /** Hash of every dispatched event and recorded outcome: equal for equal runs. */
  readonly traceHash: string;
  /** Real time the run took, ms (not part of the trace). */
  readonly wallMs: number;
}

function emptyCounts(): Record<SimulationAnomalyKind, number> {
  const out = {} as Record<SimulationAnomalyKind, number>;
  for (const k of SIMULATION_ANOMALY_KINDS) out[k] = 0;
  return out;
}

/**
 * Runs one seed: boots the cluster, runs the workload while the nemesis injects faults, heals,
 * waits for membership and hinted handoff to converge, reads every key at `all` (read repair),
 * then checks the history and the replicas. Resolves with the result; never rejects for an
 * anomaly (only for invalid options or a bug of the simulation itself).
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const o = resolveSimulationOptions(options);
  const wallStart = performance.now();
  const scheduler = new Scheduler();
  const root = new SeededRandom(o.seed);
  const codec = createCodec();
  const anomalies: SimulationAnomaly[] = [];
  const counts = emptyCounts();
  const anomaly = (kind: SimulationAnomalyKind, message: string) => {
    counts[kind]++;
    anomalies.push({ kind, message });
    scheduler.note(`anomaly ${kind}`);
    o.log?.(`${scheduler.nowMs}ms ANOMALY ${kind}: ${message}`);
  };

  const network = new SimNetwork(scheduler, root.fork("network"), codec);
  network.setDefaultLink(CALM_LINK);
  const ids = Array.from({ length: o.nodes }, (_, i) => `n${i + 1}`);
  const ring = new HashRing({ virtualNodes: 32 });
  for (const id of ids) ring.addNode(id);
  // Each start of each node draws its clock's offset from its own stream: a node that comes
  // back may be tens of seconds behind its previous run (its gossip incarnation too).
  const skewOf = (id: string) => (start: number) =>
    between(root.fork(`clock-skew:${id}#${start}`), -o.maxClockSkewMs, o.maxClockSkewMs);
  const nodes = ids.map(
    (id, i) =>
      new SimNode({
        id,
        index: i + 1,
        scheduler,
        network,
        disk: new SimDisk(scheduler, root.fork(`disk:${id}`), DISK_LATENCY),
        ring,
        codec,
        random: root.fork(`node:${id}`),
        quorum: {
          replicas: o.replicas,
          timeoutMs: o.timeoutMs,
          conflictPolicy: o.conflictPolicy,
          sloppyQuorum: o.sloppyQuorum,
          readAllShare: o.readAllShare,
          speculativeRetryMs: o.speculativeRetryMs,
        },
        replica: { maxHints: o.maxHints },
        handoff: { intervalMs: 1000, deliveryTimeoutMs: o.timeoutMs, batchSize: o.handoffBatch },
        gossip: GOSSIP_CONFIG,
        storage: { conflictPolicy: o.conflictPolicy, syncWrites: o.syncWrites },
        epochMs: EPOCH_MS,
        clockSkewMs: skewOf(id),
        peers: ids.filter((p) => p !== id),
        joinRetryMs: 1000,
      }),
  );
  const onStartFailure = (node: SimNode, e: unknown) =>
    anomaly("storage-recovery", `${node.id} did not recover: ${describeError(e)}`);
  const log = (line: string) => {
    scheduler.note(line);
    o.log?.(`${scheduler.nowMs}ms ${line}`);
  };

  // Boot: every node starts and joins through the others.
  for (const node of nodes) node.start().catch((e: unknown) => onStartFailure(node, e));
  const converged = () => membershipConverged(nodes);
  const allUp = () => nodes.every((n) => n.state === "up");
  if (!(await scheduler.runUntil(() => allUp() && converged(), BOOT_LIMIT_MS))) {
    anomaly("no-convergence", `membership did not converge within ${BOOT_LIMIT_MS} ms of boot`);
  }
  log("cluster up");

  // Workload, with faults.
  const recorder = new HistoryRecorder({ now: () => scheduler.nowMs });
  const setKeys = Array.from({ length: o.setKeys }, (_, i) => `set-${i}`);
  const registerKeys = Array.from({ length: o.registerKeys }, (_, i) => `reg-${i}`);
  const workload = new Workload({
    scheduler,
    random: root.fork("workload"),
    recorder,
    nodes,
    setKeys,
    registerKeys,
    clients: o.clients,
    operations: o.operations,
    timeoutMs: o.timeoutMs,
    thinkMs: o.thinkMs,
    codec,
    replicas: o.replicas,
    log: o.log,
  });
  const nemesis = new Nemesis({
    scheduler,
    random: root.fork("nemesis"),
    network,
    nodes,
    maxDown: o.maxDown,
    onStartFailure,
    log: o.log,
  });
  const m = nemesis.mix;
  log(
    `profile: ${o.clients} clients, think up to ${o.thinkMs} ms, ${o.setKeys} set keys, ${o.registerKeys} register keys, ` +
      `${o.sloppyQuorum ? "sloppy" : "strict"} quorums, read-all share ${o.readAllShare} (retry after ${o.speculativeRetryMs} ms), ` +
      `at most ${o.maxHints} hints, handoff batches of ${o.handoffBatch}; ` +
      `fault weights crash ${m.crash.toFixed(2)} partition ${m.partition.toFixed(2)} weather ${m.weather.toFixed(2)} ` +
      `bad link ${m.badLink.toFixed(2)} disk ${m.diskFault.toFixed(2)}, a strike every 0-${m.maxIntervalMs} ms${o.faults ? "" : " (faults off)"}`,
  );
  workload.start();
  if (o.faults) nemesis.start();
  // Every operation ends by its deadline, and clients think for at most thinkMs: the bound
  // is generous on purpose; hitting it shows as unfinished operations.
  const workloadLimit = (o.operations / o.clients + 1) * (2 * o.timeoutMs + o.thinkMs) + 60_000;
  await scheduler.runUntil(() => workload.done, workloadLimit);
  nemesis.stop();

  // Heal and converge: every node up, membership agreed, hints handed off.
  nemesis.heal();
  if (!(await scheduler.runUntil(() => allUp() && converged(), SETTLE_LIMIT_MS))) {
    anomaly(
      "no-convergence",
      `membership did not converge within ${SETTLE_LIMIT_MS} ms of healing`,
    );
  }
  const hintsPending = () =>
    nodes.reduce((n, node) => {
      const p = node.running;
      return p === undefined ? n : n + p.storage.size + p.handoff.activeDeliveries;
    }, 0);
  await scheduler.runUntil(() => hintsPending() === 0 && workload.done, SETTLE_LIMIT_MS);
  for (const node of nodes) {
    const size = node.running?.storage.size ?? 0;
    if (size > 0) anomaly("hints-left", `${node.id} still holds ${size} hints after healing`);
  }

  // Final reads at `all` through each key's coordinator: read repair brings every replica up
  // to date, and the set checker judges the final read of each set key.
  for (const key of [...setKeys, ...registerKeys]) {
    await finalRead(key);
  }
  const idle = () => nodes.every((n) => (n.running?.coordinator.activeOperations ?? 0) === 0);
  await scheduler.runUntil(idle, SETTLE_LIMIT_MS);
  checkReplicas(nodes, ring, o.replicas, [...setKeys, ...registerKeys], anomaly);
  for (const e of workload.errors) anomaly("workload-error", describeError(e));

  async function finalRead(key: string): Promise<void> {
    for (let attempt = 1; attempt <= FINAL_READ_ATTEMPTS; attempt++) {
      const node = nodes.find((n) => n.state === "up");
      const coordinatorId = node?.running?.coordinator.coordinatorFor(key);
      const coordinator = nodes.find((n) => n.id === coordinatorId)?.running?.coordinator;
      if (coordinator !== undefined) {
        const h = recorder.invoke({
          process: "final",
          key,
          type: "read",
          coordinator: coordinatorId!,
          deadlineMs: o.timeoutMs,
        });
        let outcome: "ok" | "failed" | undefined;
        let error: unknown;
        coordinator.get(key, { consistency: "all" }).then(
          (result) => {
            const values = setKeys.includes(key)
              ? unionOfSiblings(result)
              : result.siblings.map((s) => new TextDecoder().decode(s.value)).sort();
            h.ok({ values });
            log(`final read ${key} -> ${values.length} values`);
            outcome = "ok";
          },
          (e: unknown) => {
            h.fail(describeError(e));
            error = e;
            outcome = "failed";
          },
        );
        await scheduler.runUntil(() => outcome !== undefined, 10 * o.timeoutMs);
        if (outcome === "ok") return;
        log(`final read ${key} failed: ${describeError(error)}`);
      }
      await scheduler.runFor(1000);
    }
    anomaly(
      "final-read-failed",
      `no final read of ${key} succeeded in ${FINAL_READ_ATTEMPTS} attempts`,
    );
  }

  const history = recorder.history();
  const report = checkHistory(history, {
    linearizability: false,
    deadlines: { deadlineMs: o.timeoutMs, slackMs: 0 },
    sessions: { perCoordinator: true },
  });
  for (const kind of [
    "lost",
    "unexpected",
    "failed-present",
    "read-your-writes",
    "monotonic-reads",
    "late",
    "unfinished",
  ] as const) {
    const n = report.anomalies[kind];
    for (let i = 0; i < n; i++) anomaly(kind, describeHistoryAnomaly(report, kind, i));
  }

  checkQuorumOverlap(workload, o.replicas, anomaly);

  const simulatedMs = scheduler.nowMs;
  const events = scheduler.eventsRun;
  for (const node of nodes) node.crash(); // end every process: nothing may run after the result
  return {
    options: o,
    ok: anomalies.length === 0,
    anomalies,
    counts,
    report,
    history,
    workload: { ...workload.counters },
    faults: { ...nemesis.counters },
    network: { ...network.counters },
    simulatedMs,
    events,
    traceHash: scheduler.traceHash(),
    wallMs: performance.now() - wallStart,
  };
}

/**
 * Strict-quorum overlap: a read whose replies, plus the replica acknowledgements of a write
 * acknowledged before the read began, exceed N shares a replica with that write, so its
 * context covers the write's dot (it returned the write or something that superseded it).
 */
function checkQuorumOverlap(
  workload: Workload,
  n: number,
  anomaly: (kind: SimulationAnomalyKind, message: string) => void,
): void {
  for (const r of workload.registerReads) {
    for (const w of workload.ackedWrites) {
      if (w.key !== r.key || w.completeMs >= r.invokeMs) continue;
      if (w.replicaAcks + r.replicasAnswered <= n) continue;
      if (!coversDot(r.context, w.dot.actor, w.dot.counter)) {
        anomaly(
          "stale-quorum-read",
          `${r.description} missed ${w.value} (${w.dot.actor}:${w.dot.counter}, ${w.replicaAcks} replica acks, acknowledged at ${w.completeMs} ms)`,
        );
      }
    }
  }
}

/** Whether every node that is up sees every other node that is up as usable. */
function membershipConverged(nodes: readonly SimNode[]): boolean {
  const up = nodes.filter((n) => n.state === "up");
  for (const a of up) {
    const g = a.running!.gossip;
    for (const b of up) {
      if (a !== b && !isUsable(g.member(b.id)?.status)) return false;
    }
  }
  return true;
}

/**
 * After healing and the final reads: the key's replicas hold equal sibling sets, and no other
 * node stores replica data for it.
 */
function checkReplicas(
  nodes: readonly SimNode[],
  ring: HashRing,
  n: number,
  keys: readonly string[],
  anomaly: (kind: SimulationAnomalyKind, message: string) => void,
): void {
  const stored = new Map<string, Map<string, SiblingSet<Uint8Array>>>();
  for (const node of nodes) {
    const entries = new Map(node.running?.storage.dataEntries() ?? []);
    stored.set(node.id, entries);
  }
  for (const key of keys) {
    const replicas = ring.preferenceList(key, n);
    const sets = replicas.map((id) => stored.get(id)?.get(key) ?? EMPTY_SIBLING_SET);
    const first = sets[0]!;
    for (let i = 1; i < sets.length; i++) {
      if (!equals(first, sets[i]!)) {
        anomaly(
          "diverged",
          `replicas of ${key} diverge: ${replicas[0]} has ${describeSet(first)}, ${replicas[i]} has ${describeSet(sets[i]!)}`,
        );
      }
    }
    for (const node of nodes) {
      if (!replicas.includes(node.id) && stored.get(node.id)?.has(key)) {
        anomaly("stray-data", `${node.id} stores ${key} but is not one of its replicas`);
      }
    }
  }
}

/** A set's versions as `actor:counter=value` (values cut at 24 characters, `(x)` a tombstone). */
function describeSet(set: SiblingSet<Uint8Array>): string {
  const text = new TextDecoder();
  const dots = set.siblings.map((s) => {
    if (s.value === null) return `${s.actor}:${s.counter}(x)`;
    const v = text.decode(s.value);
    return `${s.actor}:${s.counter}=${v.length > 24 ? `${v.slice(0, 24)}...` : v}`;
  });
  return `{${dots.join(" ")}}`;
}

function describeHistoryAnomaly(report: HistoryReport, kind: string, index: number): string {
  if (kind === "lost" || kind === "unexpected" || kind === "failed-present") {
    const list: string[] = [];
    for (const k of report.sets?.keys ?? []) {
      const elements =
        kind === "lost" ? k.lost : kind === "unexpected" ? k.unexpected : k.failedPresent;
      for (const e of elements) list.push(`set ${k.key}: ${kind} ${e}`);
    }
    return list[index] ?? `set ${kind}`;
  }
  if (kind === "read-your-writes" || kind === "monotonic-reads") {
    const found = report.sessions?.anomalies.filter((a) => a.kind === kind) ?? [];
    return found[index]?.message ?? kind;
  }
  const found = report.deadlines?.anomalies.filter((a) => a.kind === kind) ?? [];
  return found[index]?.message ?? kind;
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
