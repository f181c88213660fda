import { HashRing } from "@distkv/ring";
import { createPeerClient, type PeerClient } from "@distkv/rpc";
import { decodeSiblingSet, equals } from "@distkv/vclock";
import type { ChaosCluster } from "./cluster.js";
import { encodeText, sleep } from "./workload-context.js";

/** One replica's stored copy of a key, as `replicaRead` returns it. */
export interface ReplicaCopy {
  readonly nodeId: string;
  /** The encoded sibling set; undefined when the replica has nothing for the key. */
  readonly bytes: Uint8Array | undefined;
}

/** Why a key's replicas differ, in words; undefined when they are identical. */
export function replicaDifference(copies: readonly ReplicaCopy[]): string | undefined {
  const first = copies[0];
  if (first === undefined) return undefined;
  for (const other of copies.slice(1)) {
    if (first.bytes === undefined || other.bytes === undefined) {
      if (first.bytes !== other.bytes) {
        const [has, lacks] = first.bytes === undefined ? [other, first] : [first, other];
        return `${has.nodeId} stores ${describeCopy(has.bytes!)}, ${lacks.nodeId} stores nothing`;
      }
      continue;
    }
    if (Buffer.compare(first.bytes, other.bytes) === 0) continue;
    const a = decodeSiblingSet(first.bytes);
    const b = decodeSiblingSet(other.bytes);
    if (equals(a, b)) {
      // Same dots, different bytes: a dot names two different values. Never legitimate.
      return `${first.nodeId} and ${other.nodeId} hold the same versions with different values`;
    }
    return `${first.nodeId} stores ${describeCopy(first.bytes)}, ${other.nodeId} stores ${describeCopy(other.bytes)}`;
  }
  return undefined;
}

function describeCopy(bytes: Uint8Array): string {
  const set = decodeSiblingSet(bytes);
  const clock = set.clock.map(([actor, n]) => `${actor}:${n}`).join(",");
  const siblings = set.siblings
    .map((s) => `${s.actor}:${s.counter}${s.value === null ? "(tombstone)" : ""}`)
    .join(" ");
  return `{clock ${clock}; ${siblings === "" ? "no siblings" : siblings}}`;
}

export interface ConvergenceOptions {
  readonly replicas: number;
  /** Give up after this long. */
  readonly timeoutMs: number;
  /**
   * Called for the keys that still differ before the next comparison: the run reads them at
   * consistency `all` (read repair). With anti-entropy running, the replicas may converge
   * before that matters; the check is the same.
   */
  readonly repair: (keys: readonly string[]) => Promise<void>;
  readonly log: (line: string) => void;
}

export interface ConvergenceResult {
  readonly keysChecked: number;
  /** Comparison rounds until every key agreed (or the timeout). */
  readonly rounds: number;
  readonly elapsedMs: number;
  /** Keys whose replicas still differed at the timeout, with the reason. */
  readonly diverged: readonly { key: string; difference: string }[];
}

/**
 * Reads every key's stored copy from each of its N replicas directly (as a peer would, with
 * `replicaRead`) and compares them byte for byte (sibling sets have one canonical encoding).
 * Repeats, repairing the keys that differ, until all agree or the timeout.
 */
export async function checkConvergence(
  cluster: ChaosCluster,
  keys: readonly string[],
  options: ConvergenceOptions,
): Promise<ConvergenceResult> {
  const ring = new HashRing();
  for (const id of cluster.ids) ring.addNode(id);
  const peers = new Map<string, PeerClient>();
  const peer = (id: string) => {
    let p = peers.get(id);
    if (p === undefined) {
      p = createPeerClient({ baseUrl: cluster.node(id).address, nodeId: "chaos-checker" });
      peers.set(id, p);
    }
    return p;
  };
  const start = performance.now();
  let pending = [...keys];
  let differences = new Map<string, string>();
  let rounds = 0;
  try {
    for (;;) {
      rounds++;
      differences = new Map();
      // A bounded number of keys at a time: the nodes share two cores with the test.
      for (let i = 0; i < pending.length; i += 32) {
        await Promise.all(
          pending.slice(i, i + 32).map(async (key) => {
            const owners = ring.preferenceList(key, options.replicas);
            try {
              const copies = await Promise.all(
                owners.map(async (nodeId): Promise<ReplicaCopy> => {
                  const r = await peer(nodeId).replicaRead(encodeText(key), { timeoutMs: 5000 });
                  return { nodeId, bytes: r.found ? r.siblings : undefined };
                }),
              );
              const diff = replicaDifference(copies);
              if (diff !== undefined) differences.set(key, diff);
            } catch (e) {
              differences.set(key, `replica read failed: ${(e as Error).message}`);
            }
          }),
        );
      }
      pending = [...differences.keys()];
      if (pending.length === 0 || performance.now() - start > options.timeoutMs) break;
      options.log(`convergence: ${pending.length} keys differ after round ${rounds}; repairing`);
      await options.repair(pending);
      await sleep(500);
    }
  } finally {
    await Promise.allSettled([...peers.values()].map((p) => p.close()));
  }
  return {
    keysChecked: keys.length,
    rounds,
    elapsedMs: performance.now() - start,
    diverged: [...differences].map(([key, difference]) => ({ key, difference })),
  };
}

export interface HintDrainResult {
  readonly elapsedMs: number;
  /** Hints still queued per node at the end (all 0 when drained). */
  readonly pending: ReadonlyMap<string, number>;
  readonly drained: boolean;
}

/** Polls every node's `hintsPending` until all are 0, or the timeout. */
export async function waitHintsDrained(
  cluster: ChaosCluster,
  timeoutMs: number,
): Promise<HintDrainResult> {
  const start = performance.now();
  for (;;) {
    const pending = new Map<string, number>();
    for (const id of cluster.ids) {
      try {
        const s = await cluster.status(id);
        pending.set(id, Number(s.metrics?.hintsPending ?? 0n));
      } catch {
        pending.set(id, Number.NaN);
      }
    }
    const drained = [...pending.values()].every((n) => n === 0);
    const elapsedMs = performance.now() - start;
    if (drained || elapsedMs > timeoutMs) return { elapsedMs, pending, drained };
    await sleep(250);
  }
}
