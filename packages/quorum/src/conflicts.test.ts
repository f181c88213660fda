import { describe, expect, test } from "vitest";
import { text, utf8, valuesOf } from "../test/helpers.js";
import { InMemoryCluster, ManualClock } from "./testing/index.js";

function cluster(nodes = 3, extra: Partial<ConstructorParameters<typeof InMemoryCluster>[0]> = {}) {
  const clock = new ManualClock();
  return { c: new InMemoryCluster({ nodes, clock, ...extra }), clock };
}

describe("siblings", () => {
  test("two concurrent writes without context, through different replicas, become siblings", async () => {
    const { c } = cluster();
    const [a, b] = c.preferenceList("k") as [string, string];
    await c.put("k", utf8("base"), { consistency: "all" });
    // Both coordinators read their own copy (with "base") and write before hearing of the other.
    await Promise.all([
      c.node(a).coordinator.put("k", utf8("from-a")),
      c.node(b).coordinator.put("k", utf8("from-b")),
    ]);
    await c.settle();
    const got = await c.get("k", { consistency: "all" });
    expect(valuesOf(got)).toEqual(["from-a", "from-b"]);
    // "base" was superseded by both writes.
    expect(got.set.siblings.map((s) => s.actor).sort()).toEqual([a, b].sort());

    // A write with the read's context resolves them.
    const resolved = await c.put("k", utf8("merged"), { context: got.context });
    await c.settle();
    expect(valuesOf(await c.get("k", { consistency: "all" }))).toEqual(["merged"]);
    for (const id of c.preferenceList("k")) {
      const set = c.node(id).store.peek("k")!;
      expect(set.siblings.map((s) => text(s.value!))).toEqual(["merged"]);
    }
    expect(resolved.replicasAcked).toBe(2);
  });

  test("a delete with the context resolves siblings into a tombstone", async () => {
    const { c } = cluster();
    const [a, b] = c.preferenceList("k") as [string, string];
    await Promise.all([
      c.node(a).coordinator.put("k", utf8("x")),
      c.node(b).coordinator.put("k", utf8("y")),
    ]);
    await c.settle();
    const got = await c.get("k", { consistency: "all" });
    expect(got.siblings.length).toBe(2);
    await c.delete("k", { context: got.context });
    await c.settle();
    const after = await c.get("k", { consistency: "all" });
    expect(after.found).toBe(false);
  });

  test("concurrent writes coordinated by one node are serialised: distinct dots, last one wins", async () => {
    const { c } = cluster();
    const id = c.coordinatorFor("k")!;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => c.node(id).coordinator.put("k", utf8(`v${i}`))),
    );
    const counters = results.map((r) => r.version.counter);
    expect(new Set(counters).size).toBe(10);
    await c.settle();
    const got = await c.get("k", { consistency: "all" });
    expect(got.siblings.length).toBe(1);
    // The lock admits writers in call order, so the last call wrote last.
    expect(valuesOf(got)).toEqual(["v9"]);
  });

  test("a write's returned context covers what it superseded and itself, not unseen siblings", async () => {
    const { c } = cluster();
    const [a, b] = c.preferenceList("k") as [string, string];
    await c.put("k", utf8("base"), { consistency: "all" });
    const read = await c.get("k");
    // Another client overwrites through b; the write reaches a before the first client writes.
    await c.node(b).coordinator.put("k", utf8("from-b"), { consistency: "all" });
    // The first client writes with its (older) read context: "from-b" stays as a sibling.
    const mine = await c.node(a).coordinator.put("k", utf8("mine"), { context: read.context });
    await c.settle();
    expect(valuesOf(await c.get("k", { consistency: "all" }))).toEqual(["from-b", "mine"]);
    // Writing again with the context it got back replaces its own version only: it never saw
    // "from-b" (a's stored clock, which does cover "from-b", must not leak into that context).
    await c.node(a).coordinator.put("k", utf8("mine-2"), { context: mine.context });
    await c.settle();
    expect(valuesOf(await c.get("k", { consistency: "all" }))).toEqual(["from-b", "mine-2"]);
  });
});

describe("lww policy", () => {
  test("a read with lww returns one value (the greatest timestamp) and repairs replicas to it", async () => {
    const { c, clock } = cluster();
    const [a, b] = c.preferenceList("k") as [string, string];
    await c.node(a).coordinator.put("k", utf8("older"));
    await clock.advance(10);
    // A blind write (context = the empty clock) is concurrent with "older".
    await c.node(b).coordinator.put("k", utf8("newer"), { context: Uint8Array.of(1, 0) });
    await c.settle();
    expect(valuesOf(await c.get("k", { consistency: "all" }))).toEqual(["newer", "older"]);
    const got = await c.get("k", { consistency: "all", conflictPolicy: "lww" });
    expect(valuesOf(got)).toEqual(["newer"]);
    await c.settle();
    for (const id of c.preferenceList("k")) {
      expect(
        c
          .node(id)
          .store.peek("k")!
          .siblings.map((s) => text(s.value!)),
      ).toEqual(["newer"]);
    }
  });

  test("a write with lww stores a single version even against concurrent siblings", async () => {
    const { c, clock } = cluster(3, { quorum: { conflictPolicy: "lww" } });
    await c.put("k", utf8("one"));
    await clock.advance(5);
    // A blind write would be a sibling under the siblings policy; lww keeps the later one.
    await c.put("k", utf8("two"), { context: Uint8Array.of(1, 0) });
    await c.settle();
    for (const id of c.preferenceList("k")) {
      expect(
        c
          .node(id)
          .store.peek("k")!
          .siblings.map((s) => text(s.value!)),
      ).toEqual(["two"]);
    }
    expect(valuesOf(await c.get("k", { consistency: "all" }))).toEqual(["two"]);
  });

  test("lww with concurrent writes through two replicas keeps exactly one of them", async () => {
    const { c } = cluster(3, { quorum: { conflictPolicy: "lww" } });
    const [a, b] = c.preferenceList("k") as [string, string];
    await Promise.all([
      c.node(a).coordinator.put("k", utf8("from-a")),
      c.node(b).coordinator.put("k", utf8("from-b")),
    ]);
    await c.settle();
    const got = await c.get("k", { consistency: "all" });
    expect(got.siblings.length).toBe(1);
    expect(["from-a", "from-b"]).toContain(text(got.siblings[0]!.value));
    // The siblings policy on the same data shows what lww hides, until repair resolved it.
    await c.settle();
    const again = await c.get("k", { consistency: "all", conflictPolicy: "siblings" });
    expect(again.siblings.length).toBe(1);
  });
});
