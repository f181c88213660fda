import { describe, expect, it } from "vitest";
import { Build } from "../test/build.js";
import {
  ANOMALY_KINDS,
  checkHistory,
  formatReport,
  isInvalidHistoryOptionsError,
} from "./index.js";

/** One history with a bit of everything: a stale read, a lost add, a hang. */
function mixed(): Build {
  const b = new Build();
  b.w("c1", "a", 0, 1, { coordinator: "n1" });
  b.w("c1", "b", 2, 3, { coordinator: "n1" });
  b.r("c1", ["a"], 4, 5, { coordinator: "n1" }); // stale: nonlinearizable + read-your-writes
  b.r("c2", ["a", "b"], 6, 7); // siblings
  b.a("c3", "s", "e1", 0, 1);
  b.a("c3", "s", "e2", 2, 3);
  b.add({
    process: "c4",
    key: "s",
    type: "read",
    values: ["e1"],
    invokeMs: 10,
    completeMs: 11,
    outcome: "ok",
  });
  b.w("c5", "z", 0, null, { key: "other" }); // never completed
  return b;
}

describe("checkHistory and formatReport", () => {
  it("runs every checker on the keys it applies to and counts anomalies by kind", () => {
    const r = checkHistory(mixed().ops);
    expect(r.verdict).toBe("violation");
    expect(r.operations).toEqual({ total: 8, ok: 7, fail: 0, info: 1, keys: 3, processes: 5 });
    expect(r.anomalies).toEqual({
      nonlinearizable: 1,
      "sibling-read": 1,
      "unwritten-value": 0,
      lost: 1,
      unexpected: 0,
      "failed-present": 0,
      "read-your-writes": 1,
      "monotonic-reads": 0,
      late: 0,
      unfinished: 1,
    });
    expect(Object.keys(r.anomalies)).toEqual([...ANOMALY_KINDS]);
    expect(r.linearizability!.skippedKeys).toEqual(["s"]);
    expect(r.sets!.keys.map((k) => k.key)).toEqual(["s"]);
  });

  it("skips checkers set to false and passes options through", () => {
    const r = checkHistory(mixed().ops, {
      linearizability: { siblingReads: "pick-one" },
      sets: false,
      sessions: false,
      deadlines: false,
    });
    expect([r.sets, r.sessions, r.deadlines]).toEqual([null, null, null]);
    expect(r.anomalies["sibling-read"]).toBe(0);
    expect(r.anomalies.nonlinearizable).toBe(1);
    expect(checkHistory([]).verdict).toBe("ok");
    expect(() => checkHistory([], { linearisability: {} } as never)).toThrow(
      expect.toSatisfy(isInvalidHistoryOptionsError),
    );
    expect(() => checkHistory([], { sets: "no" } as never)).toThrow(
      expect.toSatisfy(isInvalidHistoryOptionsError),
    );
  });

  it("prints the summary lines, the verdict with counts, and details with the witness", () => {
    const text = formatReport(checkHistory(mixed().ops));
    const lines = text.split("\n");
    expect(lines[0]).toBe("history: 8 operations (7 ok, 0 fail, 1 info) on 3 keys by 5 processes");
    expect(lines[1]).toMatch(
      /^linearizability: 2 keys, 4 operations: 1 ok, 1 violation, 0 unknown; /,
    );
    expect(lines[2]).toContain(
      "sets: 1 key, 2 elements attempted (2 acknowledged, 0 failed, 0 indeterminate) | present 1, lost 1",
    );
    expect(lines[3]).toContain("read-your-writes 1, monotonic-reads 0");
    expect(lines[4]).toMatch(/^deadlines: 8 operations, longest .* \| late 0, unfinished 1$/);
    expect(lines[5]).toMatch(
      /^verdict: VIOLATION \(nonlinearizable 1, sibling-read 1, lost 1, read-your-writes 1, unfinished 1\) in /,
    );
    expect(text).toContain("witness (3 operations, not linearizable on its own):");
    expect(text).toContain('#2 c1 read "x" -> ["a"] ok [4, 5] via n1');
    expect(text).toContain('set "s" lost: "e2"');
    expect(formatReport(checkHistory(mixed().ops), { details: 0 }).split("\n")).toHaveLength(7);
  });
});
