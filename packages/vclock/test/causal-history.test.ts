/**
 * Model-based test: random histories of writes (with the local context, a reader's context or
 * none), quorum-style reads and replica-to-replica syncs, checked after every step against the
 * textbook model of causal histories, where each replica keeps explicit sets of write ids:
 *   seen = every write it has (transitively) observed, live = the writes it still holds.
 *   write w with context C at q:  live_q = (live_q - C) + {w};  seen_q = seen_q + C + {w}
 *   sync p into q:  live_q = (live_q - seen_p) + (live_p - seen_q) + (live_q & live_p);  seen_q += seen_p
 * The dotted version vector representation must agree with it exactly: the same live versions,
 * and a clock that covers a write's dot if and only if the write is in `seen`.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  context,
  coversDot,
  EMPTY_VERSION_VECTOR,
  emptySiblingSet,
  type SiblingSet,
  siblingSet,
  sync,
  syncAll,
  update,
  type VersionVector,
} from "../src/index.js";

const REPLICAS = 4;
const actorOf = (i: number) => `node-${i}`;

type Op =
  | { t: "write"; at: number; ctx: "local" | "none" | number; del: boolean }
  | { t: "read"; from: number[] }
  | { t: "sync"; from: number; to: number };

const replicaArb = fc.nat(REPLICAS - 1);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    t: fc.constant("write" as const),
    at: replicaArb,
    ctx: fc.oneof(fc.constant("local" as const), fc.constant("none" as const), fc.nat(20)),
    del: fc.boolean(),
  }),
  fc.record({
    t: fc.constant("read" as const),
    from: fc.uniqueArray(replicaArb, { minLength: 1, maxLength: REPLICAS }),
  }),
  fc.record({ t: fc.constant("sync" as const), from: replicaArb, to: replicaArb }),
);

interface ModelReplica {
  seen: Set<number>;
  live: Set<number>;
}

function modelSync(q: ModelReplica, p: ModelReplica): ModelReplica {
  const live = new Set<number>();
  for (const w of q.live) if (!p.seen.has(w) || p.live.has(w)) live.add(w);
  for (const w of p.live) if (!q.seen.has(w)) live.add(w);
  return { seen: new Set([...q.seen, ...p.seen]), live };
}

function runHistory(ops: Op[]): void {
  let impl: SiblingSet<string>[] = Array.from({ length: REPLICAS }, () =>
    emptySiblingSet<string>(),
  );
  let model: ModelReplica[] = Array.from({ length: REPLICAS }, () => ({
    seen: new Set<number>(),
    live: new Set<number>(),
  }));
  const reads: { ctx: VersionVector; seen: Set<number> }[] = [];
  const dots = new Map<number, readonly [string, number]>();
  let writes = 0;

  const check = (where: string) => {
    for (let i = 0; i < REPLICAS; i++) {
      const set = impl[i]!;
      // Invariants hold (sorted, unique, covered): the validating constructor accepts it as is.
      expect(siblingSet(set.clock, set.siblings).siblings).toEqual(set.siblings);
      // Writes are identified by their timestamp (unique per write in this test).
      const live = set.siblings.map((s) => s.timestampMs).sort((a, b) => a - b);
      expect(live, `${where}: live versions of replica ${i}`).toEqual(
        [...model[i]!.live].sort((a, b) => a - b),
      );
      for (const [w, [actor, counter]] of dots) {
        expect(
          coversDot(set.clock, actor, counter),
          `${where}: replica ${i} covers write ${w}`,
        ).toBe(model[i]!.seen.has(w));
      }
    }
  };

  ops.forEach((op, step) => {
    if (op.t === "write") {
      const w = writes++;
      let ctx: VersionVector = EMPTY_VERSION_VECTOR;
      let ctxSeen = new Set<number>();
      if (op.ctx === "local") {
        ctx = context(impl[op.at]!);
        ctxSeen = model[op.at]!.seen;
      } else if (typeof op.ctx === "number" && reads.length > 0) {
        const r = reads[op.ctx % reads.length]!;
        ctx = r.ctx;
        ctxSeen = r.seen;
      }
      const before = impl[op.at]!;
      const after = update(before, ctx, op.del ? null : `w${w}`, actorOf(op.at), w);
      const created = after.siblings.find((s) => s.timestampMs === w)!;
      expect(created.actor).toBe(actorOf(op.at));
      expect(created.value).toBe(op.del ? null : `w${w}`);
      dots.set(w, [created.actor, created.counter]);
      impl = impl.map((s, i) => (i === op.at ? after : s));
      const m = model[op.at]!;
      const live = new Set([...m.live].filter((x) => !ctxSeen.has(x)));
      live.add(w);
      model = model.map((r, i) =>
        i === op.at ? { seen: new Set([...m.seen, ...ctxSeen, w]), live } : r,
      );
    } else if (op.t === "read") {
      const merged = syncAll(op.from.map((i) => impl[i]!));
      let mm: ModelReplica = { seen: new Set(), live: new Set() };
      for (const i of op.from) mm = modelSync(mm, model[i]!);
      expect(merged.siblings.map((s) => s.timestampMs).sort((a, b) => a - b)).toEqual(
        [...mm.live].sort((a, b) => a - b),
      );
      reads.push({ ctx: context(merged), seen: mm.seen });
    } else {
      impl = impl.map((s, i) => (i === op.to ? sync(s, impl[op.from]!) : s));
      model = model.map((r, i) => (i === op.to ? modelSync(r, model[op.from]!) : r));
    }
    check(`step ${step} (${JSON.stringify(op)})`);
  });

  // Anti-entropy to quiescence: everyone converges to one set, whatever the order.
  const all = syncAll(impl);
  expect(syncAll([...impl].reverse())).toEqual(all);
  let mAll: ModelReplica = { seen: new Set(), live: new Set() };
  for (const m of model) mAll = modelSync(mAll, m);
  expect(all.siblings.map((s) => s.timestampMs).sort((a, b) => a - b)).toEqual(
    [...mAll.live].sort((a, b) => a - b),
  );
}

describe("dotted version vector sets vs. the causal-history model", () => {
  it("agree exactly on live versions and on what each replica has seen", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => runHistory(ops)),
      { numRuns: 300 },
    );
  });

  it("a history with a partition: both sides' writes survive the heal, one read-write resolves them", () => {
    runHistory([
      { t: "write", at: 0, ctx: "local", del: false },
      { t: "sync", from: 0, to: 1 },
      { t: "sync", from: 0, to: 2 },
      // partition {0,1} | {2,3}
      { t: "write", at: 0, ctx: "local", del: false },
      { t: "write", at: 2, ctx: "local", del: false },
      { t: "sync", from: 0, to: 1 },
      { t: "sync", from: 2, to: 3 },
      // heal
      { t: "sync", from: 3, to: 1 },
      { t: "read", from: [1] },
      { t: "write", at: 1, ctx: 0, del: false },
      { t: "sync", from: 1, to: 0 },
      { t: "sync", from: 1, to: 2 },
      { t: "sync", from: 1, to: 3 },
    ]);
  });
});
