import { describe, expect, it } from "vitest";
import type { Operation } from "./index.js";
import {
  HistoryRecorder,
  isInvalidHistoryOptionsError,
  isInvalidOperationError,
  isOperationAlreadyCompletedError,
  parseJSONL,
} from "./index.js";

function clock() {
  let t = 0;
  return { now: () => t, set: (x: number) => (t = x) };
}

describe("HistoryRecorder", () => {
  it("stamps invocations and completions, for every outcome", () => {
    const c = clock();
    const seen: Operation[] = [];
    const rec = new HistoryRecorder({ now: c.now, onComplete: (op) => seen.push(op) });
    const w = rec.invoke({ process: "c1", key: "k", type: "write", value: "a", coordinator: "n1" });
    c.set(5);
    const r = rec.invoke({ process: "c2", key: "k", type: "read" });
    const d = rec.invoke({ process: "c3", key: "k", type: "delete", value: "t1", context: ["a"] });
    const add = rec.invoke({ process: "c4", key: "s", type: "add", value: "e1", deadlineMs: 100 });
    expect(rec.size).toBe(4);
    expect(rec.pendingCount).toBe(4);
    c.set(7);
    expect(w.ok()).toMatchObject({
      id: 0,
      invokeMs: 0,
      completeMs: 7,
      outcome: "ok",
      coordinator: "n1",
    });
    c.set(8);
    r.ok({ values: ["a", "b"], coordinator: "n2" });
    d.fail("INVALID_ARGUMENT");
    expect(w.completed).toBe(true);
    expect(add.completed).toBe(false);
    c.set(9);
    add.info({ error: "timeout", coordinator: "n3" });
    expect(rec.pendingCount).toBe(0);
    expect(seen.map((o) => o.id)).toEqual([0, 1, 2, 3]);
    expect(rec.history()).toEqual([
      {
        id: 0,
        process: "c1",
        key: "k",
        type: "write",
        value: "a",
        invokeMs: 0,
        completeMs: 7,
        outcome: "ok",
        coordinator: "n1",
      },
      {
        id: 1,
        process: "c2",
        key: "k",
        type: "read",
        invokeMs: 5,
        completeMs: 8,
        outcome: "ok",
        values: ["a", "b"],
        coordinator: "n2",
      },
      {
        id: 2,
        process: "c3",
        key: "k",
        type: "delete",
        value: "t1",
        context: ["a"],
        invokeMs: 5,
        completeMs: 8,
        outcome: "fail",
        error: "INVALID_ARGUMENT",
      },
      {
        id: 3,
        process: "c4",
        key: "s",
        type: "add",
        value: "e1",
        invokeMs: 5,
        completeMs: 9,
        outcome: "info",
        coordinator: "n3",
        deadlineMs: 100,
        error: "timeout",
      },
    ]);
  });

  it("shows pending operations as info that never completed, and round-trips through JSONL", () => {
    const c = clock();
    const rec = new HistoryRecorder({ now: c.now });
    rec.invoke({ process: "c1", key: "k", type: "write", value: "a" });
    const done = rec.invoke({ process: "c1", key: "k", type: "read" });
    c.set(3);
    done.ok({ values: [] });
    const h = rec.history();
    expect(h[0]).toMatchObject({ outcome: "info", completeMs: null, error: "pending" });
    expect(parseJSONL(rec.toJSONL())).toEqual(h);
  });

  it("completes an operation once only", () => {
    const rec = new HistoryRecorder();
    const h = rec.invoke({ process: "c1", key: "k", type: "write", value: "a" });
    h.info();
    for (const again of [() => h.ok(), () => h.fail(), () => h.info()]) {
      expect(again).toThrow(expect.toSatisfy(isOperationAlreadyCompletedError));
    }
    expect(rec.history()[0]!.outcome).toBe("info");
  });

  it("rejects unusable inputs at the call site", () => {
    const rec = new HistoryRecorder();
    const bad: unknown[] = [
      { process: "c1", key: "k", type: "write" }, // no value
      { process: "c1", key: "k", type: "read", value: "a" },
      { process: "", key: "k", type: "read" },
      { process: "c1", key: "k", type: "scan" },
      { process: "c1", key: "k", type: "read", context: ["a"] },
      { process: "c1", key: "k", type: "read", extra: 1 },
      { process: "c1", key: "k", type: "read", deadlineMs: -1 },
      null,
    ];
    for (const input of bad) {
      expect(() => rec.invoke(input as never), JSON.stringify(input)).toThrow(
        expect.toSatisfy(isInvalidOperationError),
      );
    }
    expect(rec.size).toBe(0);
    const r = rec.invoke({ process: "c1", key: "k", type: "read" });
    expect(() => r.ok()).toThrow(expect.toSatisfy(isInvalidOperationError)); // a read needs values
    expect(() => r.fail({ values: [] } as never)).toThrow(
      expect.toSatisfy(isInvalidOperationError),
    );
    expect(() => r.ok({ values: [], error: "x" } as never)).toThrow(
      expect.toSatisfy(isInvalidOperationError),
    );
    expect(r.completed).toBe(false); // a rejected completion records nothing
    r.ok({ values: ["v"] });
    const w = rec.invoke({ process: "c1", key: "k", type: "write", value: "a" });
    expect(() => w.ok({ values: ["a"] })).toThrow(expect.toSatisfy(isInvalidOperationError));
  });

  it("never records a completion before its invocation, and validates options", () => {
    const c = clock();
    c.set(10);
    const rec = new HistoryRecorder({ now: c.now });
    const h = rec.invoke({ process: "c1", key: "k", type: "write", value: "a" });
    c.set(9); // a clock stepping back
    expect(h.ok().completeMs).toBe(10);
    expect(() => new HistoryRecorder({ now: 5 } as never)).toThrow(
      expect.toSatisfy(isInvalidHistoryOptionsError),
    );
    expect(() => new HistoryRecorder({ clock: () => 1 } as never)).toThrow(
      expect.toSatisfy(isInvalidHistoryOptionsError),
    );
  });
});
