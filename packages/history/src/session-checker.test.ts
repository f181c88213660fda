import { describe, expect, it } from "vitest";
import { Build } from "../test/build.js";
import { checkSessions } from "./index.js";

const kinds = (b: Build, options = {}) =>
  checkSessions(b.ops, options).anomalies.map((a) => a.kind);

describe("checkSessions: read-your-writes", () => {
  it("flags a session reading a value older than its own completed write", () => {
    const b = new Build();
    b.w("c1", "a", 0, 1);
    const own = b.w("c1", "b", 2, 3);
    const r = b.r("c1", ["a"], 4, 5);
    const res = checkSessions(b.ops);
    expect(res.verdict).toBe("violation");
    expect(res.counts).toEqual({ "read-your-writes": 1, "monotonic-reads": 0 });
    const a = res.anomalies[0]!;
    expect(a).toMatchObject({ kind: "read-your-writes", key: "x", process: "c1", missing: "b" });
    expect(a.read.id).toBe(r.id);
    expect(a.earlier.id).toBe(own.id);
    expect(a.message).toContain("that its session wrote");
  });

  it("accepts the own write, siblings including it, or a later blind write by anyone", () => {
    const own = new Build();
    own.w("c1", "b", 2, 3);
    own.r("c1", ["b"], 4, 5);
    own.r("c1", ["z", "b"], 6, 7);
    expect(kinds(own)).toEqual([]);

    const later = new Build();
    later.w("c1", "a", 0, 1);
    later.w("c2", "z", 0.5, 3); // sent before c1's write ended: may have superseded it
    later.r("c1", ["z"], 4, 5);
    expect(kinds(later)).toEqual([]);
  });

  it("flags a read of another session's write that was over before the own write began", () => {
    const b = new Build();
    b.w("c2", "z", 0, 1);
    b.w("c1", "a", 2, 3);
    b.r("c1", ["z"], 4, 5);
    expect(kinds(b)).toEqual(["read-your-writes"]);
  });

  it("a write with a context covers only what the context covers", () => {
    // c2 read nothing, then wrote z with that (empty) context while c1 wrote a: in DistKV z and
    // a are concurrent, so a read that shows z alone lost a.
    const explicit = new Build();
    explicit.r("c2", [], 0, 0.5);
    explicit.w("c1", "a", 1, 2);
    explicit.w("c2", "z", 1.5, 10, { context: [] });
    explicit.r("c1", ["z"], 11, 12);
    expect(kinds(explicit)).toEqual(["read-your-writes"]);
    // The same write without a context may have taken a from the coordinator's replica.
    const blind = new Build();
    blind.r("c2", [], 0, 0.5);
    blind.w("c1", "a", 1, 2);
    blind.w("c2", "z", 1.5, 10);
    blind.r("c1", ["z"], 11, 12);
    expect(kinds(blind)).toEqual([]);
  });

  it("a context supersedes nothing sent after the write that used it", () => {
    // c was read early, while its write was still running; v supersedes c (as read then), not
    // the own write w sent after v was: w and v are siblings, and a read of v alone lost w.
    const b = new Build();
    b.w("c2", "c", 0, 100);
    b.r("c3", ["c"], 1, 2);
    b.w("c3", "v", 5, 6, { context: ["c"] });
    b.w("c1", "w", 5.5, 7);
    b.r("c1", ["v"], 8, 9);
    expect(kinds(b)).toEqual(["read-your-writes"]);
    // Reading c itself is fine: c was still running when w was sent, and may cover it.
    const c = new Build();
    c.w("c2", "c", 0, 100);
    c.w("c1", "w", 5.5, 7);
    c.r("c1", ["c"], 8, 9);
    expect(kinds(c)).toEqual([]);
  });

  it("follows chains of contexts across sessions", () => {
    const b = new Build();
    b.w("c1", "a", 0, 1);
    b.r("c2", ["a"], 2, 3);
    b.w("c2", "b", 4, 5, { context: ["a"] });
    b.r("c3", ["b"], 6, 7);
    b.w("c3", "c", 8, 9, { context: ["b"] });
    b.r("c1", ["c"], 10, 11);
    expect(kinds(b)).toEqual([]);
    // Break the chain: c's context no longer reaches a.
    const broken = new Build();
    broken.w("c1", "a", 0, 1);
    broken.r("c2", ["a"], 2, 3);
    broken.w("c2", "b", 4, 5, { context: ["a"] });
    broken.w("c3", "c", 8, 9, { context: [] });
    broken.r("c1", ["c"], 10, 11);
    expect(kinds(broken)).toEqual(["read-your-writes"]);
  });

  it("a tombstone may hide the own write: reading nothing is fine if a delete covers it", () => {
    const b = new Build();
    b.w("c1", "a", 0, 1);
    b.r("c1", [], 2, 3);
    expect(kinds(b)).toEqual(["read-your-writes"]);
    const deleted = new Build();
    deleted.w("c1", "a", 0, 1);
    deleted.d("c2", 1.5, 1.8);
    deleted.r("c1", [], 2, 3);
    expect(kinds(deleted)).toEqual([]);
  });

  it("creates no obligation from info or failed writes, or writes not yet complete", () => {
    const b = new Build();
    b.w("c1", "a", 0, 1);
    b.w("c1", "b", 2, null); // info: may never have happened
    b.w("c1", "c", 3, 4, { outcome: "fail" });
    b.w("c1", "d", 5, 20); // still running when the next read starts
    b.r("c1", ["a"], 6, 7);
    expect(kinds(b)).toEqual([]);
  });
});

describe("checkSessions: monotonic reads", () => {
  it("flags a session whose later read goes back before what it read", () => {
    const b = new Build();
    b.w("c2", "a", 0, 1);
    b.w("c2", "b", 2, 3);
    const first = b.r("c1", ["b"], 4, 5);
    b.r("c1", ["a"], 6, 7);
    const res = checkSessions(b.ops);
    expect(res.counts["monotonic-reads"]).toBe(1);
    expect(res.anomalies[0]).toMatchObject({ kind: "monotonic-reads", missing: "b" });
    expect(res.anomalies[0]!.earlier.id).toBe(first.id);
    expect(res.anomalies[0]!.message).toContain("already read");
  });

  it("accepts moving forward, siblings, and a read concurrent with the earlier one", () => {
    const b = new Build();
    b.w("c2", "a", 0, 1);
    b.r("c1", ["a"], 1.5, 2);
    b.w("c2", "b", 3, 4);
    b.r("c1", ["b"], 5, 6);
    b.w("c3", "c", 5.5, 6.5, { context: [] });
    b.r("c1", ["b", "c"], 7, 8);
    expect(kinds(b)).toEqual([]);
  });
});

describe("checkSessions: sessions and options", () => {
  const crossCoordinator = () => {
    const b = new Build();
    b.w("c1", "a", 0, 1, { coordinator: "n1" });
    b.w("c1", "b", 2, 3, { coordinator: "n1" });
    b.r("c1", ["a"], 4, 5, { coordinator: "n2" });
    return b;
  };

  it("a session is a process through one coordinator, unless perCoordinator is off", () => {
    expect(kinds(crossCoordinator())).toEqual([]);
    expect(checkSessions(crossCoordinator().ops).sessions).toBe(2);
    expect(kinds(crossCoordinator(), { perCoordinator: false })).toEqual(["read-your-writes"]);
  });

  it("each guarantee can be turned off; maxReported caps the list, not the counts", () => {
    const b = new Build();
    b.w("c2", "a", 0, 1);
    b.w("c1", "b", 2, 3);
    b.r("c1", ["b"], 4, 5);
    for (let i = 0; i < 5; i++) b.r("c1", ["a"], 6 + 2 * i, 7 + 2 * i);
    expect(checkSessions(b.ops).counts).toEqual({ "read-your-writes": 5, "monotonic-reads": 5 });
    expect(kinds(b, { readYourWrites: false })).toEqual(Array(5).fill("monotonic-reads"));
    expect(kinds(b, { monotonicReads: false })).toEqual(Array(5).fill("read-your-writes"));
    const capped = checkSessions(b.ops, { maxReported: 3 });
    expect(capped.anomalies).toHaveLength(3);
    expect(capped.counts["read-your-writes"] + capped.counts["monotonic-reads"]).toBe(10);
  });

  it("ignores values nobody wrote (counted), skips set keys and keys with duplicate values", () => {
    const b = new Build();
    b.w("c1", "a", 0, 1);
    b.r("c1", ["phantom"], 2, 3);
    b.a("c1", "set", "e", 0, 1);
    b.w("c1", "dup", 0, 1, { key: "y" });
    b.w("c2", "dup", 2, 3, { key: "y" });
    const r = checkSessions(b.ops);
    expect(r.unknownValues).toBe(1);
    expect(r.counts).toEqual({ "read-your-writes": 0, "monotonic-reads": 0 });
    expect(r.skippedKeys.map((s) => s.key)).toEqual(["set", "y"]);
    expect(r.skippedKeys[1]!.reason).toContain("written twice");
    expect(r.verdict).toBe("unknown");
  });
});
