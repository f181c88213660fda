import { equals } from "@distkv/vclock";
import { describe, expect, test } from "vitest";
import { isSettled, text, utf8, valuesOf } from "../test/helpers.js";
import { InMemoryCluster, ManualClock } from "./testing/index.js";

function storedValues(c: InMemoryCluster, id: string, key: string): string[] {
  return (c.node(id).store.peek(key)?.siblings ?? []).map((s) =>
    s.value === null ? "<tombstone>" : text(s.value),
  );
}

describe("read repair", () => {
  test("a replica that missed a write is repaired by a later read", async () => {
    const clock = new ManualClock();
    const c = new InMemoryCluster({ nodes: 3, clock });
    const key = "k";
    const [, , third] = c.preferenceList(key) as [string, string, string];
    await c.put(key, utf8("v1"), { consistency: "all" });
    c.crash(third);
    await c.put(key, utf8("v2"));
    c.recover(third);
    await c.settle();
    expect(storedValues(c, third, key)).toEqual(["v1"]);

    const got = await c.get(key);
    expect(valuesOf(got)).toEqual(["v2"]);
    await c.settle();
    expect(storedValues(c, third, key)).toEqual(["v2"]);
    const coordinator = c.node(c.coordinatorFor(key)!).coordinator;
    expect(coordinator.stats().readRepair.sent).toBe(1);
    // Every replica now holds the same set: another read repairs nothing.
    await c.get(key, { consistency: "all" });
    await c.settle();
    expect(coordinator.stats().readRepair.sent).toBe(1);
    const sets = c.preferenceList(key).map((id) => c.node(id).store.peek(key)!);
    expect(sets.every((s) => equals(s, sets[0]!))).toBe(true);
  });

  test("a reply that arrives after the answer is merged and repaired, in both directions", async () => {
    const clock = new ManualClock();
    const c = new InMemoryCluster({ nodes: 3, clock });
    const key = "k";
    const [first, second, third] = c.preferenceList(key) as [string, string, string];
    await c.put(key, utf8("v1"), { consistency: "all" });
    // The third replica alone gets v2 (written there through its own coordinator, W = 1, while
    // the links to the others drop everything).
    c.network.setLink(third, "*", { dropRate: 1 });
    await c.node(third).coordinator.put(key, utf8("v2"), { consistency: "one", timeoutMs: 50 });
    await clock.advance(50);
    c.network.setLink(third, "*", undefined);
    await c.settle();
    expect(storedValues(c, first, key)).toEqual(["v1"]);
    expect(storedValues(c, third, key)).toEqual(["v2"]);

    // The third replica answers late; the read is answered from the first two (v1).
    c.network.setLink(third, first, { delayMs: 100 });
    const read = c.node(first).coordinator.get(key, { consistency: "quorum" });
    expect(await isSettled(read)).toBe(true);
    expect(valuesOf(await read)).toEqual(["v1"]);
    // The late reply brings v2, which supersedes v1: both early repliers are repaired with it.
    await clock.advance(100);
    await c.settle();
    for (const id of [first, second, third]) expect(storedValues(c, id, key)).toEqual(["v2"]);
    expect(c.node(first).coordinator.stats().readRepair.sent).toBe(2);
  });

  test("late replies are not waited for past the deadline", async () => {
    const clock = new ManualClock();
    const c = new InMemoryCluster({ nodes: 3, clock });
    const key = "k";
    const [first, , third] = c.preferenceList(key) as [string, string, string];
    c.crash(third);
    await c.put(key, utf8("v1"));
    c.recover(third);
    c.network.setLink(third, first, { delayMs: 10_000 });
    const got = await c.node(first).coordinator.get(key, { timeoutMs: 1000 });
    expect(valuesOf(got)).toEqual(["v1"]);
    expect(c.activeOperations).toBe(1);
    await clock.advance(1000);
    expect(c.activeOperations).toBe(0);
    // The reply arrives at 10 s, after the deadline: ignored. The next read will repair.
    await c.settle();
    expect(c.network.pending).toBe(0);
    expect(storedValues(c, third, key)).toEqual([]);
    expect(c.node(first).coordinator.stats().readRepair.sent).toBe(0);
  });

  test("readRepair: false leaves stale replicas alone", async () => {
    const c = new InMemoryCluster({
      nodes: 3,
      clock: new ManualClock(),
      quorum: { readRepair: false },
    });
    const key = "k";
    const third = c.preferenceList(key)[2]!;
    c.crash(third);
    await c.put(key, utf8("v"));
    c.recover(third);
    await c.get(key, { consistency: "all" });
    await c.settle();
    expect(storedValues(c, third, key)).toEqual([]);
  });

  test("a failed repair is counted and does not fail the read", async () => {
    const clock = new ManualClock();
    const c = new InMemoryCluster({ nodes: 3, clock });
    const key = "k";
    const [first, , third] = c.preferenceList(key) as [string, string, string];
    c.crash(third);
    await c.put(key, utf8("v"));
    c.recover(third);
    // Reads reach the third replica; the repair write is then refused.
    const read = c.node(first).coordinator.get(key, { consistency: "all" });
    const got = await read;
    c.network.setNodeFault(third, "crashed");
    expect(valuesOf(got)).toEqual(["v"]);
    await c.settle();
    const stats = c.node(first).coordinator.stats();
    expect(stats.readRepair.sent).toBe(1);
    expect(stats.readRepair.failed).toBe(1);
  });
});
