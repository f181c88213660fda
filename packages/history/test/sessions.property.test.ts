import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Operation } from "../src/index.js";
import { checkSessions } from "../src/index.js";
import { generateHistory } from "./generate.js";

const generated = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  clients: fc.integer({ min: 1, max: 5 }),
  opsPerClient: fc.integer({ min: 1, max: 40 }),
  keys: fc.integer({ min: 1, max: 2 }),
  infoRatio: fc.constantFrom(0, 0.1),
  failRatio: fc.constantFrom(0, 0.05),
  deleteRatio: fc.constantFrom(0, 0.1),
  coordinators: fc.constantFrom(["n1"], ["n1", "n2"]),
  integerTimes: fc.boolean(),
});

describe("checkSessions on histories of a single-copy causal store", () => {
  it("finds nothing: one copy gives read-your-writes and monotonic reads", () => {
    fc.assert(
      fc.property(generated, (g) => {
        const history = generateHistory({ ...g, model: "causal" });
        const r = checkSessions(history);
        expect(r.anomalies).toEqual([]);
        expect(r.verdict).toBe("ok");
      }),
      { numRuns: 300 },
    );
  });

  it("finds a stale read injected after a session's own write", () => {
    fc.assert(
      fc.property(generated, fc.nat(), (g, pick) => {
        const history = generateHistory({ ...g, model: "causal", deleteRatio: 0 });
        const { ops, readId } = injectStaleRead(history, pick);
        const r = checkSessions(ops);
        expect(r.verdict).toBe("violation");
        const hit = r.anomalies.find((a) => a.read.id === readId && a.kind === "read-your-writes");
        expect(hit).toBeDefined();
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * Replaces what a session's read returned by [u], where u is an ok write that completed before
 * the session's own earlier ok write w was invoked (so nothing lets u supersede w). Falls back
 * to appending such a sequence when the history has none.
 */
function injectStaleRead(
  history: readonly Operation[],
  pick: number,
): { ops: Operation[]; readId: number } {
  const candidates: { read: Operation; u: Operation }[] = [];
  const okWrites = history.filter((o) => o.type === "write" && o.outcome === "ok");
  for (const read of history) {
    if (read.type !== "read" || read.outcome !== "ok") continue;
    for (const w of okWrites) {
      if (w.process !== read.process || w.key !== read.key || w.coordinator !== read.coordinator)
        continue;
      if (w.completeMs! >= read.invokeMs) continue;
      for (const u of okWrites) {
        if (u.key === w.key && u.completeMs! < w.invokeMs) candidates.push({ read, u });
      }
    }
  }
  if (candidates.length > 0) {
    const { read, u } = candidates[pick % candidates.length]!;
    return {
      ops: history.map((o) => (o === read ? { ...o, values: [u.value!] } : o)),
      readId: read.id,
    };
  }
  const end = Math.max(0, ...history.map((o) => o.completeMs ?? o.invokeMs)) + 1;
  const base = { process: "late", key: "k0", outcome: "ok" as const, coordinator: "n1" };
  const id = history.length;
  const extra: Operation[] = [
    { ...base, id, type: "write", value: "u", invokeMs: end, completeMs: end + 1 },
    { ...base, id: id + 1, type: "write", value: "w", invokeMs: end + 2, completeMs: end + 3 },
    { ...base, id: id + 2, type: "read", values: ["u"], invokeMs: end + 4, completeMs: end + 5 },
  ];
  return { ops: [...history, ...extra], readId: id + 2 };
}
