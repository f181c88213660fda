import { describe, expect, it } from "vitest";
import { Build } from "../../test/build.js";
import { generateHistory } from "../../test/generate.js";
import type { NonLinearizableAnomaly, UnwrittenValueAnomaly } from "../index.js";
import { checkLinearizability } from "../index.js";

const ids = (ops: readonly { id: number }[]) => ops.map((o) => o.id);

function nonlinearizable(b: Build, options = {}): NonLinearizableAnomaly {
  const r = checkLinearizability(b.ops, options);
  expect(r.verdict).toBe("violation");
  const a = r.keys.flatMap((k) => k.anomalies).find((x) => x.kind === "nonlinearizable");
  expect(a).toBeDefined();
  return a as NonLinearizableAnomaly;
}

describe("checkLinearizability: classic cases", () => {
  it("accepts a sequential history and reads of absent before any write", () => {
    const b = new Build();
    b.r("c1", [], 0, 1);
    b.w("c1", "a", 2, 3);
    b.r("c2", ["a"], 4, 5);
    b.w("c2", "b", 6, 7);
    b.r("c1", ["b"], 8, 9);
    b.d("c1", 10, 11);
    b.r("c2", [], 12, 13);
    const r = checkLinearizability(b.ops);
    expect(r.verdict).toBe("ok");
    expect(r.operations).toBe(7);
    expect(r.keys).toHaveLength(1);
    expect(r.keys[0]!.anomalies).toEqual([]);
  });

  it("rejects a stale read after a completed write, and explains it", () => {
    const b = new Build();
    const wa = b.w("c1", "a", 0, 1);
    const wb = b.w("c1", "b", 2, 3);
    const stale = b.r("c2", ["a"], 4, 5);
    const a = nonlinearizable(b);
    expect(ids(a.prefix)).toEqual([wa.id, wb.id]);
    expect(a.valueAfterPrefix).toBe("b");
    expect(a.blocked.id).toBe(stale.id);
    expect(ids(a.candidates)).toEqual([stale.id]);
    expect(ids(a.witness)).toEqual([wa.id, wb.id, stale.id]);
    expect(a.message).toContain("longest linearizable prefix has 2");
  });

  it("a read concurrent with a write may return the old or the new value, but not new then old", () => {
    const old = new Build();
    old.w("c1", "a", 0, 1);
    old.w("c1", "b", 2, 10);
    old.r("c2", ["a"], 3, 4);
    old.r("c3", ["b"], 3, 4);
    expect(checkLinearizability(old.ops).verdict).toBe("ok");

    const inverted = new Build();
    inverted.w("c1", "a", 0, 1);
    inverted.w("c1", "b", 2, 10);
    inverted.r("c2", ["b"], 3, 4);
    inverted.r("c2", ["a"], 5, 6);
    const a = nonlinearizable(inverted);
    expect(a.witness).toHaveLength(4);
  });

  it("rejects concurrent writes observed in both orders, accepts one order", () => {
    const one = new Build();
    one.w("w1", "a", 0, 10);
    one.w("w2", "b", 0, 10);
    one.r("x", ["a"], 1, 2);
    one.r("x", ["b"], 3, 4);
    one.r("y", ["a"], 1, 2);
    one.r("y", ["b"], 3, 4);
    expect(checkLinearizability(one.ops).verdict).toBe("ok");

    const both = new Build();
    both.w("w1", "a", 0, 10);
    both.w("w2", "b", 0, 10);
    both.r("x", ["a"], 1, 2);
    both.r("x", ["b"], 3, 4);
    both.r("y", ["b"], 1, 2);
    both.r("y", ["a"], 3, 4);
    const a = nonlinearizable(both);
    // Every one of the six operations is needed to show it.
    expect(a.witness).toHaveLength(6);
  });

  it("an info write may take effect late (even after the client gave up) or never", () => {
    const late = new Build();
    late.w("c1", "a", 0, 1);
    late.w("c2", "b", 2, null); // never completed
    late.w("c3", "c", 3, 5, { outcome: "info" }); // timed out at 5
    late.r("c1", ["a"], 50, 51);
    late.r("c1", ["c"], 100, 101);
    late.r("c1", ["b"], 150, 151);
    expect(checkLinearizability(late.ops).verdict).toBe("ok");

    const never = new Build();
    never.w("c1", "a", 0, 1);
    never.w("c2", "b", 2, null);
    never.r("c1", ["a"], 100, 101);
    const r = checkLinearizability(never.ops);
    expect(r.verdict).toBe("ok");
    expect(r.keys[0]!.ignored).toBe(1); // the unobserved info write constrains nothing
  });

  it("rejects an info write that appears and then disappears", () => {
    const b = new Build();
    b.w("c1", "a", 0, 1);
    b.w("c2", "b", 2, null);
    b.r("c1", ["b"], 100, 101);
    b.r("c1", ["a"], 200, 201);
    const a = nonlinearizable(b);
    expect(ids(a.witness)).toEqual([0, 1, 2, 3]);
  });

  it("reports reads of values nobody wrote, or that only failed writes wrote", () => {
    const b = new Build();
    b.w("c1", "a", 0, 1);
    b.w("c1", "z", 2, 3, { outcome: "fail" });
    const ghost = b.r("c2", ["q"], 4, 5);
    const failed = b.r("c2", ["z"], 6, 7);
    b.r("c2", ["a"], 8, 9);
    const r = checkLinearizability(b.ops);
    expect(r.verdict).toBe("violation");
    const an = r.keys[0]!.anomalies;
    expect(an.map((x) => x.kind)).toEqual(["unwritten-value", "unwritten-value"]);
    const [first, second] = an as UnwrittenValueAnomaly[];
    expect(first!.op.id).toBe(ghost.id);
    expect(first!.values).toEqual(["q"]);
    expect(first!.failedWrites).toEqual([]);
    expect(second!.op.id).toBe(failed.id);
    expect(ids(second!.failedWrites)).toEqual([1]);
    expect(second!.message).toContain("reported fail");
    // Without those two reads the rest is linearizable, and that was checked.
    expect(r.counts).toEqual({
      nonlinearizable: 0,
      "sibling-read": 0,
      "unwritten-value": 2,
      unknownKeys: 0,
    });
  });

  it("ignores failed operations and info reads", () => {
    const b = new Build();
    b.w("c1", "a", 0, 1);
    b.w("c1", "b", 2, 3, { outcome: "fail" });
    b.add({ process: "c2", key: "x", type: "read", invokeMs: 4, completeMs: 5, outcome: "info" });
    b.d("c2", 6, 7, { outcome: "fail" });
    b.r("c2", ["a"], 8, 9);
    const r = checkLinearizability(b.ops);
    expect(r.verdict).toBe("ok");
    expect(r.keys[0]!.ignored).toBe(3);
    expect(r.keys[0]!.operations).toBe(2);
  });

  it("reading absent after a completed write is stale unless a delete intervened", () => {
    const stale = new Build();
    stale.w("c1", "a", 0, 1);
    stale.r("c2", [], 2, 3);
    expect(checkLinearizability(stale.ops).verdict).toBe("violation");

    const deleted = new Build();
    deleted.w("c1", "a", 0, 1);
    deleted.d("c3", 1.5, 4);
    deleted.r("c2", [], 2, 3);
    deleted.r("c2", [], 5, 6);
    expect(checkLinearizability(deleted.ops).verdict).toBe("ok");
  });

  it("treats a completion and an invocation at the same instant as concurrent", () => {
    const tie = new Build();
    tie.w("c1", "a", 0, 5);
    tie.r("c2", [], 5, 6);
    expect(checkLinearizability(tie.ops).verdict).toBe("ok");
    const after = new Build();
    after.w("c1", "a", 0, 5);
    after.r("c2", [], 5.001, 6);
    expect(checkLinearizability(after.ops).verdict).toBe("violation");
  });
});

describe("checkLinearizability: siblings", () => {
  const history = () => {
    const b = new Build();
    b.w("c1", "a", 0, 10);
    b.w("c2", "b", 0, 10);
    b.r("c3", ["a", "b"], 11, 12);
    return b;
  };

  it("by default a sibling read is a violation, and the rest is still searched", () => {
    const b = history();
    b.r("c3", ["a"], 13, 14);
    b.r("c3", ["b"], 15, 16);
    b.r("c3", ["a"], 17, 18); // a, b, a: not linearizable on its own
    const r = checkLinearizability(b.ops);
    expect(r.verdict).toBe("violation");
    expect(r.counts["sibling-read"]).toBe(1);
    expect(r.counts.nonlinearizable).toBe(1);
    const sib = r.keys[0]!.anomalies.find((a) => a.kind === "sibling-read")!;
    expect(sib.kind === "sibling-read" && sib.op.id).toBe(2);
    expect(sib.message).toContain("2 siblings");
  });

  it("pick-one accepts a sibling read if one sibling fits, and still catches stale siblings", () => {
    expect(checkLinearizability(history().ops, { siblingReads: "pick-one" }).verdict).toBe("ok");
    expect(checkLinearizability(history().ops).verdict).toBe("violation");

    const stale = new Build();
    stale.w("c1", "a", 0, 1);
    stale.w("c1", "b", 2, 3);
    stale.w("c1", "c", 4, 5);
    stale.r("c2", ["a", "b"], 6, 7); // both superseded by c
    expect(checkLinearizability(stale.ops, { siblingReads: "pick-one" }).verdict).toBe("violation");
  });

  it("duplicate values in one read are one value, not siblings", () => {
    const b = new Build();
    b.w("c1", "a", 0, 1);
    b.r("c2", ["a", "a"], 2, 3);
    expect(checkLinearizability(b.ops).verdict).toBe("ok");
  });
});

describe("checkLinearizability: keys, budget, witness", () => {
  it("checks keys independently and leaves set-workload keys out", () => {
    const b = new Build();
    b.w("c1", "a", 0, 1, { key: "good" });
    b.r("c2", ["a"], 2, 3, { key: "good" });
    b.w("c1", "a", 0, 1, { key: "bad" });
    b.w("c1", "b", 2, 3, { key: "bad" });
    b.r("c2", ["a"], 4, 5, { key: "bad" });
    b.a("c3", "set", "e1", 0, 1);
    b.r("c3", ["e1"], 2, 3, { key: "set" });
    const r = checkLinearizability(b.ops);
    expect(r.keys.map((k) => [k.key, k.verdict])).toEqual([
      ["bad", "violation"],
      ["good", "ok"],
    ]);
    expect(r.skippedKeys).toEqual(["set"]);
    expect(r.operations).toBe(5);
  });

  it("answers unknown when the state budget runs out, and says why", () => {
    const b = new Build();
    for (let i = 0; i < 6; i++) b.w(`c${i}`, `v${i}`, 0, 10);
    for (let i = 0; i < 6; i++) b.r(`c${i}`, [`v${(i * 5) % 6}`], 11 + 2 * i, 12 + 2 * i);
    const full = checkLinearizability(b.ops);
    expect(full.verdict).toBe("violation");
    expect(full.statesExplored).toBeGreaterThan(3);
    const r = checkLinearizability(b.ops, { maxStatesPerKey: 3 });
    expect(r.verdict).toBe("unknown");
    expect(r.keys[0]!.unknownReason).toBe("max-states");
    expect(r.counts.unknownKeys).toBe(1);
  });

  it("answers unknown when the time budget is spent; an anomaly found before still counts", () => {
    const b = new Build();
    b.w("c1", "a", 0, 1);
    b.r("c2", ["a"], 2, 3);
    const r = checkLinearizability(b.ops, { timeLimitMs: 0 });
    expect(r.verdict).toBe("unknown");
    expect(r.keys[0]!.unknownReason).toBe("time-limit");

    b.r("c2", ["ghost"], 4, 5);
    const v = checkLinearizability(b.ops, { timeLimitMs: 0 });
    expect(v.verdict).toBe("violation");
    expect(v.keys[0]!.unknownReason).toBe("time-limit");
  });

  it("shrinks a violation buried in a long history to the few operations that show it", () => {
    const b = new Build();
    let t = 0;
    for (let i = 0; i < 200; i++) {
      b.w("w", `v${i}`, t, t + 2);
      b.r("r1", [`v${i}`], t + 2.5, t + 3);
      // Concurrent with the write: the old value or the new one.
      b.r("r2", [i % 2 === 0 && i > 0 ? `v${i - 1}` : `v${i}`], t + 1, t + 2.2);
      t += 4;
    }
    // One stale read in the middle: v50 after v60 completed.
    const stale = b.r("r3", ["v50"], 60 * 4 + 3, 60 * 4 + 3.5);
    const a = nonlinearizable(b);
    // The stale read, the write it read, and one later completed write.
    expect(a.witness).toHaveLength(3);
    expect(a.witness[0]!.value).toBe("v50");
    expect(a.witness[1]!.type).toBe("write");
    expect(a.witness[2]!.id).toBe(stale.id);
    // The witness is a violation on its own.
    expect(checkLinearizability(a.witness).verdict).toBe("violation");
    // Without shrinking the witness is every operation the search ran on.
    const raw = nonlinearizable(b, { shrink: false });
    expect(raw.witness).toHaveLength(601);
  });

  it("proves a violation on a window when the full search runs out of budget", () => {
    const h = generateHistory({
      seed: 7,
      clients: 5,
      opsPerClient: 400,
      keys: 1,
      model: "register",
    });
    const writes = h
      .filter((o) => o.type === "write" && o.outcome === "ok")
      .sort((a, b) => a.completeMs! - b.completeMs!);
    const last = writes.at(-1)!;
    const older = writes.find((w) => w.completeMs! < last.invokeMs)!;
    const t = last.completeMs! + 0.01;
    const stale = { id: h.length, process: "stale", key: "k0", type: "read" as const };
    h.push({ ...stale, values: [older.value!], invokeMs: t, completeMs: t + 0.01, outcome: "ok" });

    const full = checkLinearizability(h);
    const fa = full.keys[0]!.anomalies[0] as NonLinearizableAnomaly;
    expect(fa).toMatchObject({
      kind: "nonlinearizable",
      scope: "key",
      searched: full.keys[0]!.operations,
    });
    expect(full.statesExplored).toBeGreaterThan(5000);

    const r = checkLinearizability(h, { maxStatesPerKey: 5000 });
    expect(r.verdict).toBe("violation");
    expect(r.keys[0]!.unknownReason).toBe("max-states");
    expect(r.counts.unknownKeys).toBe(0);
    const a = r.keys[0]!.anomalies[0] as NonLinearizableAnomaly;
    expect(a.scope).toBe("window");
    expect(a.searched).toBeLessThan(r.keys[0]!.operations);
    expect(a.message).toContain("a window of");
    expect(a.witness.map((o) => o.id)).toContain(stale.id);
    expect(checkLinearizability(a.witness).verdict).toBe("violation");

    const off = checkLinearizability(h, { maxStatesPerKey: 5000, windowOps: 0 });
    expect(off.verdict).toBe("unknown");
    expect(off.counts.unknownKeys).toBe(1);
  });
});
