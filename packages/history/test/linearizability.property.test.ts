import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { NonLinearizableAnomaly, Operation } from "../src/index.js";
import { checkLinearizability } from "../src/index.js";
import { bruteForceLinearizable } from "./brute-force.js";
import { generateHistory } from "./generate.js";

/** Small single-key histories with few values, many ties, and every outcome. */
const smallHistory = fc
  .array(
    fc.record({
      process: fc.constantFrom("p0", "p1", "p2"),
      type: fc.constantFrom("read", "read", "write", "write", "delete"),
      value: fc.constantFrom("a", "b", "c"),
      values: fc.subarray(["a", "b", "c"], { maxLength: 2 }),
      invokeMs: fc.integer({ min: 0, max: 12 }),
      durationMs: fc.integer({ min: 0, max: 6 }),
      outcome: fc.constantFrom("ok", "ok", "ok", "ok", "info", "fail"),
      never: fc.boolean(),
    }),
    { minLength: 1, maxLength: 7 },
  )
  .map((drafts) =>
    drafts.map((d, id): Operation => {
      const op: Record<string, unknown> = {
        id,
        process: d.process,
        key: "k",
        type: d.type,
        invokeMs: d.invokeMs,
        completeMs: d.outcome === "info" && d.never ? null : d.invokeMs + d.durationMs,
        outcome: d.outcome,
      };
      if (d.type === "write") op.value = d.value;
      if (d.type === "read" && d.outcome === "ok") op.values = d.values;
      return op as unknown as Operation;
    }),
  );

const generated = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  clients: fc.integer({ min: 1, max: 6 }),
  opsPerClient: fc.integer({ min: 1, max: 30 }),
  keys: fc.integer({ min: 1, max: 3 }),
  infoRatio: fc.constantFrom(0, 0.05, 0.2),
  failRatio: fc.constantFrom(0, 0.05),
  integerTimes: fc.boolean(),
});

function nonlinearizable(history: readonly Operation[]): NonLinearizableAnomaly | undefined {
  const r = checkLinearizability(history, { siblingReads: "pick-one" });
  return r.keys.flatMap((k) => k.anomalies).find((a) => a.kind === "nonlinearizable") as
    | NonLinearizableAnomaly
    | undefined;
}

describe("checkLinearizability against exhaustive enumeration", () => {
  it("agrees with brute force on small histories (pick-one siblings)", () => {
    fc.assert(
      fc.property(smallHistory, (history) => {
        const expected = bruteForceLinearizable(history) ? "ok" : "violation";
        const r = checkLinearizability(history, { siblingReads: "pick-one" });
        expect(r.verdict).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it("every witness it reports is itself non-linearizable and part of the history", () => {
    fc.assert(
      fc.property(smallHistory, (history) => {
        const a = nonlinearizable(history);
        if (a === undefined) return;
        expect(a.witness.length).toBeGreaterThan(0);
        for (const o of a.witness) expect(history).toContainEqual(o);
        expect(bruteForceLinearizable(a.witness)).toBe(false);
        // The prefix is a real linearization of those operations (replayed here).
        let state: string | null = null;
        for (const o of a.prefix) {
          if (o.type === "write") state = o.value!;
          else if (o.type === "delete") state = null;
          else
            expect(o.values!.length === 0 ? state === null : o.values!.includes(state!)).toBe(true);
        }
        expect(a.valueAfterPrefix).toBe(state);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("checkLinearizability on histories of an atomic register", () => {
  it("accepts every history an atomic register produces, with random overlapping timings", () => {
    fc.assert(
      fc.property(generated, (g) => {
        const history = generateHistory({ ...g, model: "register" });
        const r = checkLinearizability(history);
        expect(r.verdict).toBe("ok");
        expect(r.counts).toEqual({
          nonlinearizable: 0,
          "sibling-read": 0,
          "unwritten-value": 0,
          unknownKeys: 0,
        });
      }),
      { numRuns: 300 },
    );
  });

  it("rejects the same histories with one stale read injected", () => {
    fc.assert(
      fc.property(generated, fc.nat(), (g, pick) => {
        const history = generateHistory({ ...g, model: "register" });
        const stale = injectStaleRead(history, pick);
        const r = checkLinearizability(stale.history);
        expect(r.verdict).toBe("violation");
        const key = r.keys.find((k) => k.key === stale.key)!;
        expect(key.verdict).toBe("violation");
        expect(key.anomalies.map((a) => a.kind)).toEqual(["nonlinearizable"]);
        const a = key.anomalies[0] as NonLinearizableAnomaly;
        // The witness stands alone, and contains the injected read.
        expect(checkLinearizability(a.witness).verdict).toBe("violation");
        expect(a.witness.map((o) => o.id)).toContain(stale.readId);
        // Other keys are untouched.
        for (const k of r.keys) if (k.key !== stale.key) expect(k.verdict).toBe("ok");
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * Adds a read of value u (written once, by `old`) that starts after a later write `newer`
 * (invoked after `old` completed) completed: no linearization can place it. Uses a pair from
 * the history when there is one, else appends two writes of its own.
 */
function injectStaleRead(
  history: readonly Operation[],
  pick: number,
): { history: Operation[]; key: string; readId: number } {
  const writes = history.filter((o) => o.type === "write" && o.outcome === "ok");
  const pairs: [Operation, Operation][] = [];
  for (const old of writes) {
    for (const newer of writes) {
      if (newer.key === old.key && newer.invokeMs > old.completeMs!) pairs.push([old, newer]);
    }
  }
  const out = [...history];
  let id = history.length;
  let old: Operation;
  let newer: Operation;
  if (pairs.length > 0) {
    [old, newer] = pairs[pick % pairs.length]!;
  } else {
    const end = Math.max(0, ...history.map((o) => o.completeMs ?? o.invokeMs)) + 1;
    const base = {
      process: "injector",
      key: history[0]?.key ?? "k0",
      type: "write" as const,
      outcome: "ok" as const,
    };
    old = { ...base, id: id++, value: "old", invokeMs: end, completeMs: end + 1 };
    newer = { ...base, id: id++, value: "new", invokeMs: end + 2, completeMs: end + 3 };
    out.push(old, newer);
  }
  const t = newer.completeMs! + 0.5;
  const read: Operation = {
    id: id++,
    process: "stale-reader",
    key: old.key,
    type: "read",
    invokeMs: t,
    completeMs: t + 0.5,
    outcome: "ok",
    values: [old.value!],
  };
  out.push(read);
  return { history: out, key: old.key, readId: read.id };
}
