import { encodeSiblingSet, update } from "@distkv/vclock";
import { describe, expect, test } from "vitest";
import { isSettled, rejection, text, utf8 } from "../../test/helpers.js";
import { InMemoryHintStore } from "../in-memory-hint-store.js";
import { InMemoryReplicaStore } from "../in-memory-replica-store.js";
import { Replica } from "../replica.js";
import { InMemoryMembership } from "./in-memory-membership.js";
import { InMemoryNetwork, NodeDownError } from "./in-memory-network.js";
import { ManualClock } from "./manual-clock.js";
import { SeededRandom } from "./seeded-random.js";

const v = (s: string, actor = "a", ts = 1) =>
  update({ clock: [], siblings: [] }, [], utf8(s), actor, ts);

describe("ManualClock", () => {
  test("timers fire in time order, only when time moves", async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.schedule(() => fired.push("b@20"), 20);
    clock.schedule(() => fired.push("a@10"), 10);
    const cancel = clock.schedule(() => fired.push("never"), 15);
    clock.schedule(() => fired.push("c@20"), 20);
    cancel();
    await clock.advance(19);
    expect(fired).toEqual(["a@10"]);
    expect(clock.nowMs()).toBe(19);
    await clock.advance(1);
    expect(fired).toEqual(["a@10", "b@20", "c@20"]);
    expect(clock.pendingTimers).toBe(0);
  });

  test("run() fires timers until the promise settles, and refuses a promise that cannot", async () => {
    const clock = new ManualClock(0);
    const p = new Promise<string>((r) => clock.schedule(() => r("done"), 1000));
    expect(await clock.run(p)).toBe("done");
    expect(clock.nowMs()).toBe(1000);
    await expect(clock.run(new Promise(() => {}))).rejects.toThrow(/no timer is left/);
  });
});

describe("SeededRandom", () => {
  test("one seed, one sequence; values in range", () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new SeededRandom(43).next()).not.toBe(xs[0]);
    const r = new SeededRandom(7);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[r.int(4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
    for (let i = 0; i < 100; i++) {
      const x = r.between(3, 5);
      expect(x >= 3 && x <= 5).toBe(true);
    }
  });
});

describe("InMemoryMembership", () => {
  test("events on changes only; unsubscribe works per subscription", () => {
    const m = new InMemoryMembership();
    const events: string[] = [];
    const listener = (e: { type: string; nodeId: string }) => events.push(`${e.type}:${e.nodeId}`);
    const un1 = m.view("a").subscribe(listener);
    m.view("b").subscribe(listener);
    m.setAlive("c", false);
    m.setAlive("c", false);
    un1();
    m.setAlive("c", true);
    expect(events).toEqual(["down:c", "down:c", "up:c"]);
    expect(m.view("c").isAlive("c")).toBe(true);
  });
});

describe("InMemoryNetwork", () => {
  function net(clock = new ManualClock(0)) {
    const network = new InMemoryNetwork({ clock, seed: 3 });
    const stores = new Map<string, InMemoryReplicaStore>();
    for (const id of ["a", "b"]) {
      const store = new InMemoryReplicaStore();
      stores.set(id, store);
      network.register(id, new Replica({ localId: id, store, hintStore: new InMemoryHintStore() }));
    }
    return { network, stores, clock };
  }
  const opts = (signal = new AbortController().signal) => ({ signal, deadlineMs: 0, timeoutMs: 0 });
  const payload = (s: string) => {
    const set = v(s);
    return { set, bytes: encodeSiblingSet(set) };
  };

  test("delivers asynchronously, as bytes", async () => {
    const { network, stores } = net();
    const t = network.transport("a");
    const write = t.write("b", utf8("k"), payload("x"), opts());
    expect(stores.get("b")!.size).toBe(0); // not synchronous
    await write;
    const got = await t.read("b", utf8("k"), opts());
    expect(text(got!.siblings[0]!.value!)).toBe("x");
    expect(got).not.toBe(stores.get("b")!.peek("k")); // a decoded copy, not the stored object
    expect(await t.read("b", utf8("none"), opts())).toBeUndefined();
  });

  test("delays use the clock; drops never answer; crashed nodes refuse", async () => {
    const { network, clock } = net();
    const t = network.transport("a");
    network.setLink("a", "b", { delayMs: 50 });
    const delayed = t.write("b", utf8("k"), payload("x"), opts());
    await clock.advance(49);
    expect(await isSettled(delayed)).toBe(false);
    await clock.advance(1);
    await delayed;

    network.setLink("a", "b", { dropRate: 1 });
    const controller = new AbortController();
    const dropped = t.write("b", utf8("k"), payload("y"), opts(controller.signal));
    await clock.advance(10_000);
    expect(await isSettled(dropped)).toBe(false);
    controller.abort(new Error("deadline"));
    expect(((await rejection(dropped)) as Error).message).toBe("deadline");
    expect(network.counters.dropped).toBe(1);

    network.heal();
    network.setNodeFault("b", "crashed");
    const e = await rejection(t.read("b", utf8("k"), opts()));
    expect(e).toBeInstanceOf(NodeDownError);
    network.setNodeFault("b", "unresponsive");
    const hung = t.read("b", utf8("k"), opts());
    await clock.advance(10_000);
    expect(await isSettled(hung)).toBe(false);
  });

  test("the most specific link rule wins", async () => {
    const { network, clock, stores } = net();
    const t = network.transport("a");
    network.setLink("*", "*", { delayMs: 100 });
    network.setLink("a", "b", { delayMs: 1 });
    const p = t.write("b", utf8("k"), payload("x"), opts());
    await clock.advance(1);
    // The request took the a -> b rule; the reply takes b -> a, which falls back to * -> *.
    expect(stores.get("b")!.size).toBe(1);
    await clock.advance(99);
    expect(await isSettled(p)).toBe(false);
    await clock.advance(1);
    expect(await isSettled(p)).toBe(true);
  });
});

describe("in-memory stores", () => {
  test("the replica store merges with sync", async () => {
    const store = new InMemoryReplicaStore();
    const a = v("a", "n1");
    const b = v("b", "n2");
    await store.merge(utf8("k"), a);
    const merged = await store.merge(utf8("k"), b);
    expect(merged.siblings.map((s) => text(s.value!))).toEqual(["a", "b"]);
    expect([...store.entries()].length).toBe(1);
  });

  test("the hint store merges per (target, key), bounds new pairs, deletes by version", async () => {
    const hints = new InMemoryHintStore();
    expect(await hints.put("t", utf8("k1"), v("a", "n1"), 2, 0)).toBe("created");
    expect(await hints.put("t", utf8("k1"), v("b", "n2"), 2, 0)).toBe("merged");
    expect(await hints.put("u", utf8("k1"), v("c"), 2, 0)).toBe("created");
    expect(await hints.put("t", utf8("k2"), v("d"), 2, 0)).toBe("full");
    expect(hints.size).toBe(2);
    expect((await hints.targets()).sort()).toEqual(["t", "u"]);
    const [h] = await hints.list("t", 10);
    expect(h!.set.siblings.map((s) => text(s.value!))).toEqual(["a", "b"]);
    expect(await hints.delete("t", utf8("k1"), h!.version - 1)).toBe(false);
    expect(await hints.delete("t", utf8("k1"), h!.version)).toBe(true);
    expect(hints.size).toBe(1);
    expect(await hints.targets()).toEqual(["u"]);
  });
});
