import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Build } from "../test/build.js";
import type { Operation } from "./index.js";
import { checkSets } from "./index.js";

function read(b: Build, key: string, values: string[], invokeMs: number, completeMs: number) {
  return b.add({
    process: "final",
    key,
    type: "read",
    values,
    invokeMs,
    completeMs,
    outcome: "ok",
  });
}

describe("checkSets", () => {
  it("classifies every element as Jepsen's set checker does", () => {
    const b = new Build();
    for (let i = 1; i <= 5; i++) b.a("c1", "s", `e${i}`, i, i + 0.5);
    b.a("c2", "s", "e6", 1, 2, "fail");
    b.a("c2", "s", "e7", 3, 4, "info"); // made it
    b.a("c2", "s", "e8", 5, null, "info"); // did not
    read(b, "s", ["e1", "e2", "e3", "e4", "e5", "e7"], 10, 11);
    const r = checkSets(b.ops);
    expect(r.verdict).toBe("ok");
    const k = r.keys[0]!;
    expect(k).toMatchObject({
      key: "s",
      verdict: "ok",
      attempted: 8,
      acknowledged: 5,
      failed: 1,
      indeterminate: 2,
      present: 5,
      lost: [],
      unexpected: [],
      recovered: ["e7"],
      failedPresent: [],
      unsettled: [],
    });
    expect(k.finalRead?.id).toBe(8);
    expect(r.operations).toBe(9);
  });

  it("reports lost, unexpected and failed-but-present elements", () => {
    const b = new Build();
    b.a("c1", "s", "e1", 0, 1);
    b.a("c1", "s", "e2", 2, 3);
    b.a("c1", "s", "e3", 4, 5, "fail");
    read(b, "s", ["e1", "e3", "ghost"], 10, 11);
    const r = checkSets(b.ops);
    expect(r.verdict).toBe("violation");
    expect(r.keys[0]).toMatchObject({ lost: ["e2"], unexpected: ["ghost"], failedPresent: ["e3"] });
    expect(r.totals).toMatchObject({ lost: 1, unexpected: 1, failedPresent: 1, present: 1 });
  });

  it("an add acknowledged after the final read began is unsettled, not lost", () => {
    const b = new Build();
    b.a("c1", "s", "e1", 0, 1);
    b.a("c1", "s", "late", 5, 12);
    b.a("c1", "s", "tie", 5, 10); // acknowledged the instant the read began: concurrent
    read(b, "s", ["e1"], 10, 11);
    const r = checkSets(b.ops);
    expect(r.verdict).toBe("ok");
    expect(r.keys[0]).toMatchObject({ lost: [], unsettled: ["late", "tie"] });
  });

  it("uses the last ok read as the final read and ignores other keys", () => {
    const b = new Build();
    b.a("c1", "s", "e1", 0, 1);
    read(b, "s", [], 0.5, 0.7); // early read, not final
    read(b, "s", ["e1"], 5, 6);
    b.add({ process: "c2", key: "s", type: "read", invokeMs: 7, completeMs: 8, outcome: "info" });
    b.w("c3", "v", 0, 1); // register key "x": not the set checker's business
    const r = checkSets(b.ops);
    expect(r.keys.map((k) => k.key)).toEqual(["s"]);
    expect(r.keys[0]!.finalRead!.invokeMs).toBe(5);
    expect(r.verdict).toBe("ok");
  });

  it("is unknown without a final read, and counts an element added twice once", () => {
    const b = new Build();
    b.a("c1", "s", "e1", 0, 1, "fail");
    b.a("c2", "s", "e1", 2, 3);
    const r = checkSets(b.ops);
    expect(r.verdict).toBe("unknown");
    expect(r.keys[0]).toMatchObject({ attempted: 1, acknowledged: 1, failed: 0, finalRead: null });
    read(b, "s", ["e1"], 4, 5);
    expect(checkSets(b.ops).verdict).toBe("ok");
  });

  it("property: a correct final read passes with exact counts; dropping or inventing one element fails", () => {
    const outcomes = fc.array(
      fc.record({
        outcome: fc.constantFrom("ok", "ok", "ok", "fail", "info"),
        lands: fc.boolean(),
        key: fc.constantFrom("s1", "s2"),
      }),
      { minLength: 1, maxLength: 60 },
    );
    fc.assert(
      fc.property(outcomes, fc.nat(), (adds, pick) => {
        const b = new Build();
        const finals = new Map<string, string[]>([
          ["s1", []],
          ["s2", []],
        ]);
        adds.forEach((a, i) => {
          const element = `e${i}`;
          b.a(`c${i % 4}`, a.key, element, i, i + 0.5, a.outcome as Operation["outcome"]);
          if (a.outcome === "ok" || (a.outcome === "info" && a.lands))
            finals.get(a.key)!.push(element);
        });
        const t = adds.length + 10;
        for (const [key, values] of finals) read(b, key, values, t, t + 1);
        const r = checkSets(b.ops);
        expect(r.verdict).toBe("ok");
        const acked = adds.filter((a) => a.outcome === "ok").length;
        expect(r.totals.acknowledged).toBe(acked);
        expect(r.totals.present).toBe(acked);
        expect(r.totals.recovered).toBe(adds.filter((a) => a.outcome === "info" && a.lands).length);
        expect(r.totals.failed).toBe(adds.filter((a) => a.outcome === "fail").length);

        // Drop one acknowledged element from its final read: exactly that one is lost.
        const ackedIdx = adds.flatMap((a, i) => (a.outcome === "ok" ? [i] : []));
        if (ackedIdx.length > 0) {
          const i = ackedIdx[pick % ackedIdx.length]!;
          const ops = b.ops.map((o) =>
            o.type === "read" && o.key === adds[i]!.key
              ? { ...o, values: o.values!.filter((v) => v !== `e${i}`) }
              : o,
          );
          const bad = checkSets(ops);
          expect(bad.verdict).toBe("violation");
          expect(bad.totals.lost).toBe(1);
          expect(bad.keys.find((k) => k.key === adds[i]!.key)!.lost).toEqual([`e${i}`]);
        }
        // Invent one: unexpected.
        const invented = b.ops.map((o) =>
          o.type === "read" && o.key === "s1" ? { ...o, values: [...o.values!, "never"] } : o,
        );
        if (adds.some((a) => a.key === "s1")) {
          expect(checkSets(invented).totals.unexpected).toBe(1);
        }
      }),
      { numRuns: 300 },
    );
  });
});
