import { describe, expect, it } from "vitest";
import { Build } from "../test/build.js";
import { checkDeadlines, DEFAULT_DEADLINE_MS, DEFAULT_DEADLINE_SLACK_MS } from "./index.js";

describe("checkDeadlines", () => {
  it("passes operations within deadline + slack, whatever their outcome", () => {
    const b = new Build();
    b.w("c1", "a", 0, 5500); // exactly 5000 + 500
    b.r("c1", [], 0, 10);
    b.w("c2", "b", 0, 5000, { outcome: "info", error: "timeout" });
    b.w("c3", "c", 0, 1, { outcome: "fail" });
    const r = checkDeadlines(b.ops);
    expect(DEFAULT_DEADLINE_MS + DEFAULT_DEADLINE_SLACK_MS).toBe(5500);
    expect(r).toMatchObject({ verdict: "ok", operations: 4, counts: { late: 0, unfinished: 0 } });
    expect(r.maxDurationMs).toBe(5500);
  });

  it("flags late and never-completed operations, with per-operation deadlines", () => {
    const b = new Build();
    const late = b.w("c1", "a", 0, 5500.5);
    const hung = b.w("c2", "b", 1, null);
    const own = b.r("c3", [], 0, 300, { deadlineMs: 100 });
    b.r("c3", [], 0, 300, { deadlineMs: 1000 });
    const r = checkDeadlines(b.ops, { slackMs: 100, deadlineMs: 5000 });
    expect(r.verdict).toBe("violation");
    expect(r.counts).toEqual({ late: 2, unfinished: 1 });
    expect(r.anomalies.map((a) => [a.kind, a.op.id, a.limitMs])).toEqual([
      ["late", late.id, 5100],
      ["late", own.id, 200],
      ["unfinished", hung.id, 5100],
    ]);
    expect(r.anomalies[2]!.durationMs).toBeNull();
    expect(r.anomalies[2]!.message).toContain("never completed");
    expect(checkDeadlines(b.ops, { maxReported: 1 }).anomalies).toHaveLength(1);
  });
});
