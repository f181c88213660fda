import { expect, test } from "vitest";
import { type EventOwner, Scheduler, TraceHash } from "./scheduler.js";

const owner = (alive = true, traceId = 1): EventOwner & { alive: boolean } => ({ alive, traceId });

test("events run in (time, creation) order and time jumps from event to event", async () => {
  const s = new Scheduler();
  const seen: string[] = [];
  s.schedule(20, undefined, "x", () => seen.push(`b@${s.nowMs}`));
  s.schedule(10, undefined, "x", () => seen.push(`a@${s.nowMs}`));
  s.schedule(20, undefined, "x", () => seen.push(`c@${s.nowMs}`));
  s.schedule(10.9, undefined, "x", () => seen.push(`a2@${s.nowMs}`)); // floored to 10
  await s.runFor(100);
  expect(seen).toEqual(["a@10", "a2@10", "b@20", "c@20"]);
  expect(s.nowMs).toBe(100);
  expect(s.eventsRun).toBe(4);
});

test("cancelled events and events of a dead owner never run", async () => {
  const s = new Scheduler();
  const p = owner();
  const seen: string[] = [];
  const cancel = s.schedule(5, undefined, "x", () => seen.push("cancelled"));
  s.schedule(5, p, "x", () => seen.push("dead"));
  s.schedule(6, undefined, "x", () => seen.push("ok"));
  cancel();
  p.alive = false;
  await s.runFor(10);
  expect(seen).toEqual(["ok"]);
  expect(s.eventsRun).toBe(1);
});

test("an event's promise chains finish before the next event runs", async () => {
  const s = new Scheduler();
  const seen: string[] = [];
  s.schedule(1, undefined, "x", () => {
    void (async () => {
      for (let i = 0; i < 50; i++) await Promise.resolve();
      seen.push("chain done");
    })();
  });
  s.schedule(1, undefined, "x", () => seen.push("next event"));
  await s.runFor(5);
  expect(seen).toEqual(["chain done", "next event"]);
});

test("runUntil stops at the event that satisfies the condition, or after maxMs", async () => {
  const s = new Scheduler();
  let n = 0;
  const tick = () => {
    n++;
    s.schedule(10, undefined, "tick", tick);
  };
  s.schedule(10, undefined, "tick", tick);
  expect(await s.runUntil(() => n === 3, 1000)).toBe(true);
  expect(s.nowMs).toBe(30);
  expect(await s.runUntil(() => n === 1000, 55)).toBe(false);
  expect(s.nowMs).toBe(85);
  expect(n).toBe(8);
});

test("the trace hash tells runs apart by time, kind and owner of their events", async () => {
  const run = async (delay: number, kind: string, traceId: number) => {
    const s = new Scheduler();
    s.schedule(delay, owner(true, traceId), kind, () => {});
    await s.runFor(100);
    return s.traceHash();
  };
  const base = await run(5, "a", 1);
  expect(await run(5, "a", 1)).toBe(base);
  expect(await run(6, "a", 1)).not.toBe(base);
  expect(await run(5, "b", 1)).toBe(base); // kinds are numbered in order of first use
  expect(await run(5, "a", 2)).not.toBe(base);
  const h = new TraceHash();
  h.addString("x");
  const g = new TraceHash();
  g.addString("y");
  expect(h.digest()).not.toBe(g.digest());
  expect(h.digest()).toMatch(/^[0-9a-f]{16}$/);
});

test("a non-finite delay is refused", () => {
  expect(() => new Scheduler().schedule(Number.NaN, undefined, "x", () => {})).toThrow(
    /delay must be finite/,
  );
});
