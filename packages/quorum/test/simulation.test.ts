/**
 * Randomized simulation: random puts, deletes and reads at random consistency levels, through
 * random replicas, over a network with random delays and lossy links, while nodes crash (with
 * or without membership noticing) and recover. Then the cluster heals, hints are handed off and
 * every key is read at `all`. Checked:
 *
 * - strict-quorum overlap, during the run: a read whose replies plus an earlier acknowledged
 *   write's non-hinted acknowledgements exceed N sees that write (its context covers the dot);
 * - convergence: the key's replicas hold identical sets, no hint is left, and no non-replica
 *   stores the key's data;
 * - no acknowledged write is lost: each one is still there (same dot, same value) unless a
 *   write that could have seen it superseded it (its context covered the acknowledged dot);
 * - nothing is invented: every live value was written by some request.
 *
 * Everything runs on a ManualClock and a seeded network: one seed is one history. fast-check
 * prints the failing seed; `simulate(seed)` replays it.
 */
import {
  coversDot,
  decodeContext,
  EMPTY_SIBLING_SET,
  EMPTY_VERSION_VECTOR,
  encodeContext,
  equals,
  type VersionVector,
} from "@distkv/vclock";
import fc from "fast-check";
import { expect, test } from "vitest";
import type { Consistency } from "../src/index.js";
import { InMemoryCluster, ManualClock, SeededRandom } from "../src/testing/index.js";
import { text, utf8 } from "./helpers.js";

interface WriteRecord {
  readonly key: string;
  /** Unique value, or null for a delete. */
  readonly tag: string | null;
  readonly ctxKind: "token" | "none" | "blind";
  /** The decoded context sent (token, blind). */
  readonly ctx: VersionVector | undefined;
  readonly start: number;
  end: number;
  outcome: "pending" | "acked" | "failed" | "not-written";
  dot?: { actor: string; counter: number };
  returned?: VersionVector;
  /** Acknowledgements by the key's own replicas (hinted ones excluded). */
  replicaAcks?: number;
}

interface ReadRecord {
  readonly key: string;
  readonly start: number;
  readonly answered: number;
  readonly context: VersionVector;
}

const KEYS = ["a", "b", "c", "d"];
const LEVELS: (Consistency | undefined)[] = ["one", "quorum", "quorum", undefined, "all"];

export async function simulate(seed: number, steps = 60): Promise<void> {
  const rng = new SeededRandom(seed);
  const clock = new ManualClock();
  const c = new InMemoryCluster({
    nodes: 5,
    clock,
    seed,
    // One seed in four runs with strict quorums (hints sent but not counted).
    quorum: { replicas: 3, timeoutMs: 300, sloppyQuorum: seed % 4 !== 0 },
    handoff: { intervalMs: 1000, deliveryTimeoutMs: 300 },
    virtualNodes: 16,
  });
  c.network.setLink("*", "*", { delayMs: [0, 20] });
  c.start();
  const down = new Set<string>(); // crashed, membership knows
  const silent = new Set<string>(); // crashed, membership does not know yet
  const contexts = new Map<string, Uint8Array[]>();
  const writes: WriteRecord[] = [];
  const reads: ReadRecord[] = [];
  let tick = 0;
  let tagSeq = 0;
  const usable = (id: string) => !down.has(id) && !silent.has(id);

  const write = (isDelete: boolean): Promise<unknown> | undefined => {
    const key = rng.pick(KEYS);
    const owners = c.preferenceList(key).filter(usable);
    if (owners.length === 0) return undefined;
    const via = rng.chance(0.7) ? c.coordinatorFor(key) : rng.pick(owners);
    if (via === undefined || !usable(via)) return undefined;
    const seen = contexts.get(key) ?? [];
    const r = rng.next();
    const ctxKind = r < 0.5 && seen.length > 0 ? "token" : r < 0.8 ? "none" : "blind";
    const token =
      ctxKind === "token"
        ? rng.pick(seen)
        : ctxKind === "blind"
          ? encodeContext(EMPTY_VERSION_VECTOR)
          : undefined;
    const tag = isDelete ? null : `${key}#${tagSeq++}`;
    const record: WriteRecord = {
      key,
      tag,
      ctxKind,
      ctx: token === undefined ? undefined : decodeContext(token),
      start: tick++,
      end: Number.POSITIVE_INFINITY,
      outcome: "pending",
    };
    writes.push(record);
    const consistency = rng.pick(LEVELS);
    const options = {
      ...(token === undefined ? {} : { context: token }),
      ...(consistency === undefined ? {} : { consistency }),
    };
    const coordinator = c.node(via).coordinator;
    const op =
      tag === null ? coordinator.delete(key, options) : coordinator.put(key, utf8(tag), options);
    return op.then(
      (result) => {
        record.end = tick++;
        record.outcome = "acked";
        record.dot = { actor: result.version.actor, counter: result.version.counter };
        record.returned = decodeContext(result.context);
        record.replicaAcks = result.replicasAcked - result.hintedAcks;
      },
      (error: { name: string; answered?: number }) => {
        record.end = tick++;
        // Refused before the coordinator's local write: nothing was stored anywhere.
        record.outcome =
          error.name === "UnavailableError" && error.answered === 0 ? "not-written" : "failed";
      },
    );
  };

  const read = (): Promise<unknown> | undefined => {
    const key = rng.pick(KEYS);
    const via = rng.pick(c.nodeIds.filter(usable));
    const consistency = rng.pick(LEVELS);
    const start = tick++;
    return c
      .node(via)
      .coordinator.get(key, consistency === undefined ? {} : { consistency })
      .then(
        (result) => {
          reads.push({
            key,
            start,
            answered: result.replicasAnswered,
            context: decodeContext(result.context),
          });
          const list = contexts.get(key) ?? [];
          list.push(result.context);
          contexts.set(key, list);
        },
        () => {},
      );
  };

  for (let step = 0; step < steps; step++) {
    const batch: Promise<unknown>[] = [];
    const size = rng.between(1, 3);
    for (let i = 0; i < size; i++) {
      const r = rng.next();
      const faulty = down.size + silent.size;
      let op: Promise<unknown> | undefined;
      if (r < 0.35) op = write(false);
      else if (r < 0.45) op = write(true);
      else if (r < 0.7) op = read();
      else if (r < 0.78 && faulty < 2) {
        const id = rng.pick(c.nodeIds.filter((x) => !down.has(x)));
        silent.delete(id);
        down.add(id);
        c.crash(id);
      } else if (r < 0.86 && faulty > 0) {
        const id = rng.pick([...down, ...silent]);
        down.delete(id);
        silent.delete(id);
        c.recover(id);
      } else if (r < 0.9 && faulty < 2) {
        const id = rng.pick(c.nodeIds.filter(usable));
        silent.add(id);
        c.network.setNodeFault(id, "crashed");
      } else if (r < 0.95) {
        c.network.setLink(rng.pick(c.nodeIds), rng.pick(c.nodeIds), {
          dropRate: 0.3,
          delayMs: [0, 20],
        });
      } else {
        for (const a of c.nodeIds) for (const b of c.nodeIds) c.network.setLink(a, b, undefined);
      }
      if (op !== undefined) batch.push(op);
    }
    await c.run(Promise.all(batch));
  }

  // Strict-quorum overlap: a read whose replies and an earlier write's replica acknowledgements
  // add up to more than N shares a replica with it, so it sees the write (or what superseded it,
  // whose clock covers the write's dot).
  for (const r of reads) {
    for (const w of writes) {
      if (w.key !== r.key || w.outcome !== "acked" || w.end >= r.start) continue;
      if (w.replicaAcks! + r.answered <= 3) continue;
      expect(
        coversDot(r.context, w.dot!.actor, w.dot!.counter),
        `seed ${seed}: a read of ${r.key} missed ${w.tag ?? "a delete"} despite overlapping quorums`,
      ).toBe(true);
    }
  }

  // Heal: everyone up, no link faults; hand hints off; read every key at `all` (read repair).
  for (const id of [...down, ...silent]) c.recover(id);
  c.network.heal();
  await c.settle();
  for (const node of c.nodes()) await c.run(node.handoff.deliverAll());
  await c.settle();
  for (const node of c.nodes()) expect(node.hints.size, `seed ${seed}: hints left`).toBe(0);
  for (const key of KEYS) {
    await c.run(c.get(key, { consistency: "all" }));
    await c.settle();
  }
  await c.stop();

  for (const key of KEYS) {
    const replicas = c.preferenceList(key);
    const sets = replicas.map((id) => c.node(id).store.peek(key) ?? EMPTY_SIBLING_SET);
    for (const set of sets) {
      expect(equals(set, sets[0]!), `seed ${seed}: replicas of ${key} diverge`).toBe(true);
    }
    for (const node of c.nodes()) {
      if (!replicas.includes(node.id)) {
        expect(node.store.peek(key), `seed ${seed}: ${node.id} is not a replica of ${key}`).toBe(
          undefined,
        );
      }
    }
    const final = sets[0]!;
    const mine = writes.filter((w) => w.key === key);
    for (const s of final.siblings) {
      if (s.value === null) continue;
      expect(
        mine.some((w) => w.tag === text(s.value!)),
        `seed ${seed}: invented value ${text(s.value!)}`,
      ).toBe(true);
    }
    for (const w of mine) {
      if (w.outcome !== "acked") continue;
      const dot = w.dot!;
      const kept = final.siblings.find((s) => s.actor === dot.actor && s.counter === dot.counter);
      if (kept !== undefined) {
        expect(kept.value === null ? null : text(kept.value), `seed ${seed}: dot reused`).toBe(
          w.tag,
        );
        continue;
      }
      const superseded = mine.some((b) => {
        if (b === w || b.outcome === "not-written") return false;
        if (b.ctxKind !== "none")
          return b.ctx !== undefined && coversDot(b.ctx, dot.actor, dot.counter);
        if (b.outcome === "acked") return coversDot(b.returned!, dot.actor, dot.counter);
        // A failed overwrite used its coordinator's copy as context: it may have seen `w` if it
        // was still running after `w` started.
        return b.end > w.start;
      });
      expect(
        superseded,
        `seed ${seed}: acknowledged ${w.tag ?? "delete"} of ${key} (${dot.actor}:${dot.counter}) was lost`,
      ).toBe(true);
    }
  }
}

test("random operations under random failures lose no acknowledged write", async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => simulate(seed)),
    // SIM_RUNS=2000 for a longer local search.
    { numRuns: Number(process.env.SIM_RUNS ?? 100) },
  );
}, 600_000);
