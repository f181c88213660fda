import { update } from "@distkv/vclock";
import { describe, expect, test } from "vitest";
import { footprint, isSettled, rejection, text, utf8, valuesOf } from "../test/helpers.js";
import { isHintQueueFullError, isUnavailableError } from "./errors.js";
import { HintedHandoff } from "./hinted-handoff.js";
import { InMemoryHintStore } from "./in-memory-hint-store.js";
import type { ReplicaTransport } from "./replica-transport.js";
import { InMemoryCluster, InMemoryMembership, ManualClock } from "./testing/index.js";

function setup(extra: Partial<ConstructorParameters<typeof InMemoryCluster>[0]> = {}) {
  const clock = new ManualClock();
  const c = new InMemoryCluster({ nodes: 5, clock, ...extra });
  const key = "user:7";
  const replicas = c.preferenceList(key) as [string, string, string];
  return { c, clock, key, replicas };
}

/** The nodes holding hints, with their targets. */
function hintsHeld(c: InMemoryCluster): Array<[holder: string, target: string]> {
  return c
    .nodes()
    .flatMap((n) => n.hints.all().map((h) => [n.id, h.targetNodeId] as [string, string]));
}

describe("sloppy quorum and hinted handoff", () => {
  test("owner down: the write goes to the next live node with a hint, and comes back to the owner", async () => {
    const { c, key, replicas } = setup();
    c.start();
    const [, , owner] = replicas;
    c.crash(owner);
    const put = await c.put(key, utf8("v"));
    expect(put.replicasAcked).toBe(2);
    await c.settle();

    // The substitute is the first node past the preference list on the ring.
    const ring = [...c.ring.walk(key)];
    const substitute = ring.find((id) => !replicas.includes(id))!;
    expect(hintsHeld(c)).toEqual([[substitute, owner]]);
    expect(c.node(substitute).store.peek(key)).toBeUndefined(); // a hint, not data
    expect(c.node(owner).store.peek(key)).toBeUndefined();
    const coordinatorStats = c.node(c.coordinatorFor(key)!).coordinator.stats();
    expect(coordinatorStats.hints.sent).toBe(1);
    expect(c.node(substitute).coordinator.stats().hints).toMatchObject({ stored: 1, pending: 1 });
    // all still fails: the owner is down and a hint is not a replica.
    expect(isUnavailableError(await rejection(c.get(key, { consistency: "all" })))).toBe(true);

    // The owner returns: the "up" event starts the delivery.
    c.recover(owner);
    await c.settle();
    expect(text(c.node(owner).store.peek(key)!.siblings[0]!.value!)).toBe("v");
    expect(footprint(c).hints).toBe(0);
    expect(c.node(substitute).coordinator.stats().hints).toMatchObject({
      stored: 1,
      delivered: 1,
      pending: 0,
    });
    // all-reads succeed, and the owner answers with the data itself (no repair needed).
    const got = await c.get(key, { consistency: "all" });
    expect(valuesOf(got)).toEqual(["v"]);
    await c.settle();
    expect(c.node(c.coordinatorFor(key)!).coordinator.stats().readRepair.sent).toBe(0);
    await c.stop();
  });

  test("several writes for one owner merge into one hint per key; the queue drains", async () => {
    const { c, replicas } = setup();
    c.start();
    const owner = replicas[2];
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`).filter((k) =>
      c.preferenceList(k).includes(owner),
    );
    expect(keys.length).toBeGreaterThan(5);
    c.crash(owner);
    for (const k of keys) {
      await c.put(k, utf8(`${k}=1`));
      await c.put(k, utf8(`${k}=2`));
    }
    await c.settle();
    expect(footprint(c).hints).toBe(keys.length);
    expect(hintsHeld(c).every(([, target]) => target === owner)).toBe(true);

    c.recover(owner);
    await c.settle();
    expect(footprint(c).hints).toBe(0);
    for (const k of keys) {
      const set = c.node(owner).store.peek(k)!;
      expect(set.siblings.map((s) => text(s.value!))).toEqual([`${k}=2`]);
      expect(valuesOf(await c.get(k, { consistency: "all" }))).toEqual([`${k}=2`]);
    }
    await c.stop();
  });

  test("periodic sweep delivers hints for owners that recovered without an up event", async () => {
    const { c, clock, key, replicas } = setup({ handoff: { intervalMs: 1000 } });
    c.start();
    const owner = replicas[1];
    // Crashed without membership noticing: the write fails over to a substitute.
    c.network.setNodeFault(owner, "crashed");
    await c.put(key, utf8("v"));
    await c.settle();
    expect(hintsHeld(c).map(([, t]) => t)).toEqual([owner]);
    // The sweep finds the owner alive (per membership) but the delivery fails: kept, retried.
    await clock.advance(1000);
    await c.settle();
    expect(footprint(c).hints).toBe(1);
    const holder = hintsHeld(c)[0]![0];
    expect(c.node(holder).stats.snapshot().hints.deliveryFailures).toBeGreaterThanOrEqual(1);
    c.network.setNodeFault(owner, undefined);
    await clock.advance(1000);
    await c.settle();
    expect(footprint(c).hints).toBe(0);
    expect(text(c.node(owner).store.peek(key)!.siblings[0]!.value!)).toBe("v");
    await c.stop();
  });

  test("a hint is deleted only after the owner acknowledged it", async () => {
    const { c, clock, key, replicas } = setup({ handoff: { deliveryTimeoutMs: 200 } });
    const owner = replicas[2];
    c.crash(owner);
    await c.put(key, utf8("v"));
    await c.settle();
    const [holder] = hintsHeld(c)[0]!;
    c.membership.setAlive(owner, true);
    c.hang(owner); // reported up but never answers
    const run = c.node(holder).handoff.deliver(owner);
    expect(await isSettled(run)).toBe(false);
    await clock.advance(200);
    expect(await run).toEqual({ delivered: 0, expired: 0, failed: 1 });
    expect(footprint(c).hints).toBe(1);
    c.network.setNodeFault(owner, undefined);
    expect(await c.run(c.node(holder).handoff.deliver(owner))).toEqual({
      delivered: 1,
      expired: 0,
      failed: 0,
    });
    expect(footprint(c).hints).toBe(0);
  });

  test("nothing is delivered to an owner the membership view reports down", async () => {
    const { c, key, replicas } = setup();
    const owner = replicas[0];
    c.crash(owner);
    await c.put(key, utf8("v"));
    await c.settle();
    const [holder] = hintsHeld(c)[0]!;
    c.network.setNodeFault(owner, undefined); // reachable, but still reported down
    expect(await c.node(holder).handoff.deliverAll()).toEqual({
      delivered: 0,
      expired: 0,
      failed: 0,
    });
    expect(footprint(c).hints).toBe(1);
  });

  test("the hint queue is bounded: beyond maxHints, hinted writes are refused and counted", async () => {
    const { c, replicas } = setup({ replica: { maxHints: 3 } });
    const owner = replicas[2];
    c.crash(owner);
    const keys = Array.from({ length: 200 }, (_, i) => `q-${i}`).filter((k) => {
      const pl = c.preferenceList(k);
      return pl.includes(owner) && pl[0] !== owner;
    });
    expect(keys.length).toBeGreaterThanOrEqual(12);
    for (const k of keys.slice(0, 12)) {
      // The two live replicas meet W = 2; a refused hint only costs the copy for the owner.
      expect((await c.put(k, utf8("v"))).replicasAcked).toBe(2);
    }
    await c.settle();
    const perNode = c.nodes().map((n) => n.hints.size);
    expect(Math.max(...perNode)).toBe(3);
    const dropped = c.nodes().reduce((a, n) => a + n.stats.snapshot().hints.dropped, 0);
    const stored = c.nodes().reduce((a, n) => a + n.stats.snapshot().hints.stored, 0);
    expect(dropped).toBeGreaterThan(0);
    // Each refused hint was handed to the next substitute, until none was left.
    expect(stored).toBe(footprint(c).hints);
    expect(stored).toBeLessThanOrEqual(12);
  });

  test("Replica refuses a new hint when full, but merges into an existing one", async () => {
    const { c } = setup({ replica: { maxHints: 1 } });
    const node = c.node(c.nodeIds[0]!);
    const a = update({ clock: [], siblings: [] }, [], utf8("a"), "x", 1);
    await node.replica.write(utf8("k1"), a, { hintFor: "node-9" });
    const e = await rejection(node.replica.write(utf8("k2"), a, { hintFor: "node-9" }));
    expect(isHintQueueFullError(e)).toBe(true);
    const b = update(a, [], utf8("b"), "y", 2);
    await node.replica.write(utf8("k1"), b, { hintFor: "node-9" });
    expect(node.hints.size).toBe(1);
    expect(node.stats.snapshot().hints).toMatchObject({ stored: 2, dropped: 1, pending: 1 });
  });
});

describe("hint expiry (maxAgeMs)", () => {
  test("a hint older than maxAgeMs is deleted, not delivered, when its owner returns", async () => {
    const { c, clock, key, replicas } = setup({ handoff: { intervalMs: 0, maxAgeMs: 60_000 } });
    c.start();
    const [, , owner] = replicas;
    c.crash(owner);
    await c.put(key, utf8("old"));
    await c.settle();
    expect(hintsHeld(c)).toHaveLength(1);
    await clock.advance(60_001);
    c.recover(owner);
    await c.settle();
    expect(c.node(owner).store.peek(key)).toBeUndefined();
    expect(footprint(c).hints).toBe(0);
    const expired = c.nodes().reduce((a, n) => a + n.coordinator.stats().hints.expired, 0);
    const delivered = c.nodes().reduce((a, n) => a + n.coordinator.stats().hints.delivered, 0);
    expect({ expired, delivered }).toEqual({ expired: 1, delivered: 0 });
  });

  test("a hint younger than maxAgeMs is still delivered", async () => {
    const { c, clock, key, replicas } = setup({ handoff: { intervalMs: 0, maxAgeMs: 60_000 } });
    c.start();
    const [, , owner] = replicas;
    c.crash(owner);
    await c.put(key, utf8("fresh"));
    await c.settle();
    await clock.advance(59_000);
    c.recover(owner);
    await c.settle();
    expect(text(c.node(owner).store.peek(key)!.siblings[0]!.value!)).toBe("fresh");
    expect(footprint(c).hints).toBe(0);
  });

  test("the sweep expires hints of a target that stays down", async () => {
    const { c, clock, key, replicas } = setup({
      handoff: { intervalMs: 1_000, maxAgeMs: 10_000 },
    });
    c.start();
    const [, , owner] = replicas;
    c.crash(owner);
    await c.put(key, utf8("v"));
    await c.settle();
    expect(footprint(c).hints).toBe(1);
    await clock.advance(9_000);
    expect(footprint(c).hints).toBe(1);
    await clock.advance(3_000);
    expect(footprint(c).hints).toBe(0);
    await c.stop();
  });

  test("merging into a hint keeps its first creation time; maxAgeMs 0 keeps hints forever", async () => {
    const hints = new InMemoryHintStore();
    const v1 = update({ clock: [], siblings: [] }, [], utf8("v1"), "a", 1);
    const v2 = update(v1, [["a", 1]], utf8("v2"), "a", 2);
    await hints.put("owner", utf8("k"), v1, 10, 1_000);
    await hints.put("owner", utf8("k"), v2, 10, 50_000);
    await hints.put("owner", utf8("j"), v1, 10, 40_000);
    expect((await hints.list("owner", 10)).map((h) => h.createdMs).sort()).toEqual([1_000, 40_000]);
    const forever = new HintedHandoff({
      membership: new InMemoryMembership().view("me"),
      hintStore: hints,
      transport: { write: async () => {}, read: async () => undefined },
      options: { intervalMs: 0, maxAgeMs: 0 },
    });
    expect(await forever.expire()).toBe(0);
    expect(await hints.expire(40_000)).toBe(1);
    expect((await hints.list("owner", 10)).map((h) => text(h.key))).toEqual(["j"]);
    expect(hints.size).toBe(1);
  });
});

describe("HintedHandoff with a scripted transport", () => {
  test("a hint that changes during delivery is kept for the next round", async () => {
    const hints = new InMemoryHintStore();
    const membership = new InMemoryMembership();
    const key = utf8("k");
    const v1 = update({ clock: [], siblings: [] }, [], utf8("v1"), "a", 1);
    const v2 = update(v1, [["a", 1]], utf8("v2"), "a", 2);
    await hints.put("owner", key, v1, 10, Date.now());
    const delivered: string[] = [];
    let first = true;
    const transport: ReplicaTransport = {
      async write(_node, _key, payload) {
        delivered.push(payload.set.siblings.map((s) => text(s.value!)).join());
        if (first) {
          first = false;
          await hints.put("owner", key, v2, 10, Date.now()); // a new hinted write arrives meanwhile
        }
      },
      async read() {
        return undefined;
      },
    };
    const handoff = new HintedHandoff({
      membership: membership.view("me"),
      hintStore: hints,
      transport,
      options: { intervalMs: 0 },
    });
    expect(await handoff.deliver("owner")).toEqual({ delivered: 0, expired: 0, failed: 0 });
    expect(hints.size).toBe(1);
    expect(await handoff.deliver("owner")).toEqual({ delivered: 1, expired: 0, failed: 0 });
    expect(hints.size).toBe(0);
    expect(delivered).toEqual(["v1", "v2"]);
  });

  test("stop() aborts deliveries in flight and ignores later events", async () => {
    const hints = new InMemoryHintStore();
    const membership = new InMemoryMembership();
    const v = update({ clock: [], siblings: [] }, [], utf8("v"), "a", 1);
    await hints.put("owner", utf8("k"), v, 10, Date.now());
    let calls = 0;
    const transport: ReplicaTransport = {
      write: (_n, _k, _p, options) => {
        calls++;
        return new Promise((_resolve, reject) => {
          options.signal.addEventListener("abort", () => reject(options.signal.reason));
        });
      },
      read: async () => undefined,
    };
    const handoff = new HintedHandoff({
      membership: membership.view("me"),
      hintStore: hints,
      transport,
      options: { intervalMs: 0 },
    });
    handoff.start();
    membership.setAlive("owner", false);
    membership.setAlive("owner", true); // "up": delivery starts and hangs
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(1);
    await handoff.stop();
    expect(hints.size).toBe(1);
    membership.setAlive("owner", false);
    membership.setAlive("owner", true);
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(1);
    expect(handoff.running).toBe(false);
  });
});
