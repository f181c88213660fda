import { describe, expect, it } from "vitest";
import { encodeDatagram } from "./codec.js";
import { suspicionBounds } from "./config.js";
import {
  isGossipJoinError,
  isGossipLifecycleError,
  isInvalidGossipArgumentError,
  isInvalidGossipConfigError,
} from "./errors.js";
import type { MemberEvent } from "./events.js";
import { Gossip } from "./gossip.js";
import type { GossipLogger } from "./logger.js";
import type { UpdateMessage } from "./messages.js";
import { SimCluster } from "./testing/sim-cluster.js";
import { SimNetwork } from "./testing/sim-network.js";

const EPOCH = 1_700_000_000_000;

/** Records every event every node emits, as "observer: type member status". */
function record(sim: SimCluster, ids: readonly string[]): string[] {
  const log: string[] = [];
  for (const o of ids) {
    sim
      .node(o)
      .subscribe((e: MemberEvent) => log.push(`${o}: ${e.type} ${e.member.id} ${e.member.status}`));
  }
  return log;
}

/** Sends updates to `to` from an address that is not a member (a test's hand on the wire). */
function inject(sim: SimCluster, to: string, ...messages: UpdateMessage[]): void {
  sim.network.transportFor("injector:1").send(sim.addressOf(to), encodeDatagram(messages));
}

async function small(
  n: number,
  seed = 1,
  options: { datagramOnly?: boolean } = {},
): Promise<{ sim: SimCluster; ids: string[] }> {
  const sim = new SimCluster({ seed, ...options });
  const ids = await sim.bootstrap(n);
  return { sim, ids };
}

describe("Gossip lifecycle and arguments", () => {
  const net = new SimNetwork({ seed: 1 });
  const base = () => ({
    id: "a",
    address: "a:1",
    transport: net.transportFor("a:1"),
    clock: net.clockFor("a:1"),
  });

  it("validates its init", () => {
    const cases: [string, () => unknown, (e: unknown) => boolean][] = [
      ["empty id", () => new Gossip({ ...base(), id: "" }), isInvalidGossipArgumentError],
      [
        "no transport",
        () => new Gossip({ ...base(), transport: {} as never }),
        isInvalidGossipArgumentError,
      ],
      [
        "metadata too big",
        () => new Gossip({ ...base(), metadata: new Uint8Array(513) }),
        isInvalidGossipArgumentError,
      ],
      [
        "bad phase",
        () => new Gossip({ ...base(), phase: "up" as never }),
        isInvalidGossipArgumentError,
      ],
      [
        "bad incarnation",
        () => new Gossip({ ...base(), incarnation: -1 }),
        isInvalidGossipArgumentError,
      ],
      [
        "bad config",
        () => new Gossip({ ...base(), config: { gossipNodes: 0 } }),
        isInvalidGossipConfigError,
      ],
    ];
    for (const [name, make, check] of cases) {
      let error: unknown;
      try {
        make();
      } catch (e) {
        error = e;
      }
      expect(check(error), name).toBe(true);
    }
  });

  it("starts once, emits join for itself, refuses calls in the wrong state, stops idempotently", async () => {
    const g = new Gossip(base());
    expect(g.localMember).toMatchObject({
      id: "a",
      address: "a:1",
      status: "normal",
      incarnation: EPOCH,
    });
    await expect(g.join(["b:1"])).rejects.toSatisfy(isGossipLifecycleError);
    expect(() => g.leave()).toThrow(expect.objectContaining({ name: "GossipLifecycleError" }));
    const events: string[] = [];
    g.subscribe((e) => events.push(`${e.type} ${e.member.id}`));
    g.start();
    expect(events).toEqual(["join a"]);
    expect(g.running).toBe(true);
    expect(() => g.start()).toThrow(expect.objectContaining({ name: "GossipLifecycleError" }));
    expect(await g.join(["a:1"])).toBe(0); // only itself: nothing to contact
    g.stop();
    g.stop();
    expect(g.running).toBe(false);
    expect(() => g.start()).toThrow(expect.objectContaining({ name: "GossipLifecycleError" }));
    expect(() => g.setMetadata(new Uint8Array(1))).toThrow(
      expect.objectContaining({ name: "GossipLifecycleError" }),
    );
  });

  it("join fails with GossipJoinError when no seed answers, with or without request()", async () => {
    for (const datagramOnly of [false, true]) {
      const sim = new SimCluster({ seed: 3, datagramOnly, config: { pushPullTimeoutMs: 2000 } });
      const g = sim.start("lonely");
      const error = await sim.settle(g.join(["ghost:1", "ghost:2"]).catch((e: unknown) => e));
      expect(isGossipJoinError(error), String(datagramOnly)).toBe(true);
      expect((error as Error & { cause: AggregateError }).cause.errors).toHaveLength(2);
      expect(g.stats().pushPullFailures).toBe(2);
    }
  });
});

describe("Gossip membership", () => {
  it("nodes that join through a seed see each other, with phase and metadata", async () => {
    for (const datagramOnly of [false, true]) {
      const sim = new SimCluster({ seed: 2, datagramOnly });
      const a = sim.start("a", { metadata: new Uint8Array([1]) });
      const b = await sim.startAndJoin("b", [sim.addressOf("a")], {
        phase: "joining",
        metadata: new Uint8Array([2, 2]),
      });
      const c = await sim.startAndJoin("c", [sim.addressOf("b")]);
      expect(await sim.network.runUntil(() => sim.converged(), 10_000)).toBeDefined();
      for (const g of [a, b, c]) {
        expect(g.members().map((m) => `${m.id}:${m.status}:${m.metadata.join(",")}`)).toEqual([
          "a:normal:1",
          "b:joining:2,2",
          "c:normal:",
        ]);
        expect(g.liveMembers).toBe(3);
      }
    }
  });

  it("metadata and phase changes raise the incarnation and reach everyone as update events", async () => {
    const { sim, ids } = await small(4);
    const log = record(sim, ids);
    const g = sim.node("node-2");
    const before = g.localMember.incarnation;
    g.setMetadata(new Uint8Array([7, 7]));
    g.setPhase("leaving");
    expect(g.localMember.incarnation).toBe(before + 2);
    await sim.network.runFor(5000);
    for (const o of ids) {
      const m = sim.node(o).member("node-2")!;
      expect(m.status).toBe("leaving");
      expect([...m.metadata]).toEqual([7, 7]);
      expect(m.incarnation).toBe(before + 2);
    }
    expect(log.filter((l) => l.includes("update node-2"))).toHaveLength(2 + 3); // self twice, others at least once
    expect(log.every((l) => l.includes("update"))).toBe(true);
  });

  it("a crashed member is suspected, then declared dead by everyone", async () => {
    const { sim, ids } = await small(5);
    const log = record(sim, ids);
    sim.crash("node-3");
    const live = ids.filter((i) => i !== "node-3");
    const took = await sim.network.runUntil(
      () => live.every((o) => sim.statusOf(o, "node-3") === "dead"),
      120_000,
    );
    expect(took).toBeDefined();
    // Suspicion first, at every node that declared it dead.
    for (const o of live) {
      const mine = log.filter((l) => l.startsWith(`${o}:`) && l.includes("node-3"));
      expect(mine.at(-1)).toBe(`${o}: dead node-3 dead`);
    }
    const bounds = suspicionBounds(sim.node("node-0").config, 5);
    expect(took!).toBeGreaterThanOrEqual(bounds.minMs);
    expect(log.some((l) => l.includes("suspect node-3 suspect"))).toBe(true);
    expect(log.filter((l) => l.includes("dead") && !l.includes("node-3"))).toEqual([]);
  });

  it("a live member refutes a suspicion by raising its incarnation; nobody declares it dead", async () => {
    const { sim, ids } = await small(6);
    const log = record(sim, ids);
    const victim = sim.node("node-4");
    const inc = victim.localMember.incarnation;
    // Everyone else hears the suspicion; the victim hears it last (through gossip).
    for (const o of ids.filter((i) => i !== "node-4")) {
      inject(sim, o, { type: "suspect", id: "node-4", incarnation: inc, from: "rumour" });
    }
    await sim.network.runFor(2);
    expect(ids.filter((o) => sim.statusOf(o, "node-4") === "suspect")).toHaveLength(5);
    await sim.network.runFor(60_000);
    expect(victim.localMember.incarnation).toBe(inc + 1);
    expect(victim.stats().refutations).toBeGreaterThanOrEqual(1);
    for (const o of ids) {
      expect(sim.node(o).member("node-4")).toMatchObject({
        status: "normal",
        incarnation: inc + 1,
      });
    }
    expect(log.filter((l) => l.includes("dead"))).toEqual([]);
    // Cleared of suspicion: an update whose previous status was suspect.
    expect(log.filter((l) => l.includes("update node-4 normal"))).toHaveLength(5);
  });

  it("a member that missed the refutation learns it from the suspect's answer to its check", async () => {
    const sim = new SimCluster({ seed: 13, config: { pushPullIntervalMs: 0 } });
    const ids = await sim.bootstrap(4);
    const log = record(sim, ids);
    const [a, b] = ["node-0", "node-1"];
    const inc = sim.node(b).localMember.incarnation;
    // a hears the suspicion, then nothing reaches a while b refutes and the news spreads.
    const cut = (loss: number) => {
      for (const x of ids)
        if (x !== a)
          sim.network.setLink(sim.addressOf(x), sim.addressOf(a), { lossProbability: loss });
    };
    cut(1);
    inject(sim, a, { type: "suspect", id: b, incarnation: inc, from: "rumour" });
    const othersKnow = () =>
      ids.every((o) => o === a || sim.node(o).member(b)?.incarnation === inc + 1);
    expect(await sim.network.runUntil(othersKnow, 1000)).toBeDefined();
    await sim.network.runFor(1500); // the refutation's retransmissions are spent
    expect(sim.statusOf(a, b)).toBe("suspect");
    cut(0);
    // a's check of b (at half the minimum timeout) gets an ack that carries the refutation.
    const minMs = suspicionBounds(sim.node(a).config, 4).minMs;
    expect(await sim.network.runUntil(() => sim.statusOf(a, b) === "normal", minMs)).toBeDefined();
    await sim.network.runFor(30_000);
    expect(log.filter((l) => l.includes("dead"))).toEqual([]);
  });

  it("a member wrongly declared dead comes back with a higher incarnation (a join again)", async () => {
    const { sim, ids } = await small(4);
    const log = record(sim, ids);
    const inc = sim.node("node-1").localMember.incarnation;
    inject(
      sim,
      "node-0",
      { type: "suspect", id: "node-1", incarnation: inc, from: "rumour" },
      { type: "dead", id: "node-1", incarnation: inc, from: "rumour" },
    );
    await sim.network.runFor(30_000);
    for (const o of ids)
      expect(sim.node(o).member("node-1")).toMatchObject({
        status: "normal",
        incarnation: inc + 1,
      });
    expect(log).toContain("node-0: dead node-1 dead");
    expect(log).toContain("node-0: join node-1 normal");
  });

  it("a death verdict about a member believed alive only makes it suspect, with the minimum timeout", async () => {
    const { sim, ids } = await small(5);
    const log = record(sim, ids);
    const inc = sim.node("node-1").localMember.incarnation;
    const rest = ids.filter((i) => i !== "node-1").map((i) => sim.addressOf(i));
    sim.network.partition([sim.addressOf("node-1")], [...rest, "injector:1"]);
    inject(sim, "node-0", { type: "dead", id: "node-1", incarnation: inc, from: "rumour" });
    await sim.network.runFor(10);
    expect(log).toEqual(["node-0: suspect node-1 suspect"]);
    // Cut off, node-1 cannot refute: the suspicion expires at the minimum timeout, not the maximum.
    const minMs = suspicionBounds(sim.node("node-0").config, 5).minMs;
    await sim.network.runFor(minMs - 20);
    expect(sim.statusOf("node-0", "node-1")).toBe("suspect");
    await sim.network.runFor(20);
    expect(sim.statusOf("node-0", "node-1")).toBe("dead");
    // Without the partition, the same verdict is refuted before anyone declares it dead.
    const { sim: sim2, ids: ids2 } = await small(5);
    const log2 = record(sim2, ids2);
    inject(sim2, "node-0", { type: "dead", id: "node-1", incarnation: inc, from: "rumour" });
    await sim2.network.runFor(30_000);
    expect(log2.filter((l) => l.includes("dead"))).toEqual([]);
    for (const o of ids2)
      expect(sim2.node(o).member("node-1")).toMatchObject({
        status: "normal",
        incarnation: inc + 1,
      });
  });

  it("stale claims (older incarnations) change nothing", async () => {
    const { sim, ids } = await small(3);
    const log = record(sim, ids);
    const inc = sim.node("node-1").localMember.incarnation;
    inject(sim, "node-0", { type: "dead", id: "node-1", incarnation: inc - 1, from: "rumour" });
    inject(sim, "node-0", {
      type: "alive",
      id: "node-1",
      address: "elsewhere:1",
      incarnation: inc - 1,
      phase: "normal",
      metadata: new Uint8Array(),
    });
    inject(sim, "node-0", { type: "suspect", id: "unknown", incarnation: 9, from: "rumour" });
    await sim.network.runFor(5000);
    expect(log).toEqual([]);
    expect(sim.node("node-0").member("node-1")).toMatchObject({
      status: "normal",
      address: sim.addressOf("node-1"),
    });
    expect(sim.node("node-0").member("unknown")).toBeUndefined();
  });

  it("graceful leave: everyone sees it left, nobody declares it dead, it is forgotten after retention", async () => {
    const sim = new SimCluster({ seed: 4, config: { deadRetentionMs: 60_000 } });
    const ids = await sim.bootstrap(6);
    const log = record(sim, ids);
    const leaver = sim.node("node-2");
    const leaving = leaver.leave();
    expect(leaver.leave()).toBe(leaving);
    expect(leaver.localMember.status).toBe("left");
    expect(await sim.settle(leaving)).toBe(true);
    leaver.stop();
    const others = ids.filter((i) => i !== "node-2");
    expect(
      await sim.network.runUntil(
        () => others.every((o) => sim.statusOf(o, "node-2") === "left"),
        10_000,
      ),
    ).toBeDefined();
    await sim.network.runFor(30_000);
    expect(log.filter((l) => l.includes("dead"))).toEqual([]);
    expect(log.filter((l) => l.includes("leave node-2 left"))).toHaveLength(6);
    await sim.network.runFor(60_000);
    for (const o of others) expect(sim.node(o).member("node-2")).toBeUndefined();
    expect(log.filter((l) => l.includes("remove node-2"))).toHaveLength(5);
  });

  it("removeDead: a dead member becomes left everywhere; alive, unknown or self are refused", async () => {
    const { sim, ids } = await small(5, 6);
    const log = record(sim, ids);
    const a = sim.node("node-0");
    expect(a.removeDead("node-3")).toBe(false); // alive
    expect(a.removeDead("nobody")).toBe(false);
    expect(() => a.removeDead("node-0")).toThrow(/cannot remove itself/);
    sim.crash("node-3");
    const live = ids.filter((i) => i !== "node-3");
    expect(
      await sim.network.runUntil(
        () => live.every((o) => sim.statusOf(o, "node-3") === "dead"),
        120_000,
      ),
    ).toBeDefined();
    expect(a.removeDead("node-3")).toBe(true);
    expect(sim.statusOf("node-0", "node-3")).toBe("left");
    expect(a.removeDead("node-3")).toBe(false); // already left
    expect(
      await sim.network.runUntil(
        () => live.every((o) => sim.statusOf(o, "node-3") === "left"),
        10_000,
      ),
    ).toBeDefined();
    expect(log.filter((l) => l.includes("leave node-3 left"))).toHaveLength(4);
    a.stop();
    expect(() => a.removeDead("node-3")).toThrow(/cannot remove a member in state stopped/);
  });

  it("a member that missed a leave hears it again as soon as it gossips its stale view", async () => {
    const sim = new SimCluster({ seed: 14, config: { pushPullIntervalMs: 0 } });
    const ids = await sim.bootstrap(5);
    const log = record(sim, ids);
    const [a, leaver] = ["node-0", "node-4"];
    const cut = (loss: number) => {
      for (const x of ids)
        if (x !== a)
          sim.network.setLink(sim.addressOf(x), sim.addressOf(a), { lossProbability: loss });
    };
    cut(1);
    expect(await sim.settle(sim.node(leaver).leave())).toBe(true);
    sim.node(leaver).stop();
    await sim.network.runFor(3000); // every retransmission of the leave is spent
    expect(sim.statusOf(a, leaver)).toBe("normal");
    cut(0);
    // a probes the stopped leaver, suspects it and gossips the suspicion: the others answer
    // that stale claim with the leave, before a's suspicion could expire (push-pull is off).
    const suspected = await sim.network.runUntil(
      () => sim.statusOf(a, leaver) === "suspect",
      60_000,
    );
    expect(suspected).toBeDefined();
    const bounds = suspicionBounds(sim.node(a).config, 5);
    expect(
      await sim.network.runUntil(() => sim.statusOf(a, leaver) === "left", bounds.minMs),
    ).toBeDefined();
    await sim.network.runFor(60_000);
    expect(log.filter((l) => l.includes("dead"))).toEqual([]);
  });

  it("leave with nobody to tell resolves true at once; stop during leave resolves false", async () => {
    const sim = new SimCluster({ seed: 5 });
    expect(await sim.settle(sim.start("alone").leave())).toBe(true);
    await sim.bootstrap(3, "x-");
    const g = sim.node("x-1");
    const leaving = g.leave({ timeoutMs: 10_000 });
    g.stop();
    expect(await sim.settle(leaving)).toBe(false);
  });
});

describe("identity and incarnation", () => {
  it("a node restarted under the same id at a new address is accepted (before and after it was declared dead)", async () => {
    for (const waitForDeath of [false, true]) {
      const { sim, ids } = await small(5, waitForDeath ? 11 : 12);
      const log = record(
        sim,
        ids.filter((i) => i !== "node-3"),
      );
      const oldInc = sim.node("node-3").localMember.incarnation;
      sim.crash("node-3");
      if (waitForDeath) {
        await sim.network.runUntil(
          () => ids.every((o) => o === "node-3" || sim.statusOf(o, "node-3") === "dead"),
          120_000,
        );
      } else {
        await sim.network.runFor(100);
      }
      // Default incarnation: the wall clock, now later than the first run's.
      const again = await sim.startAndJoin("node-3", [sim.addressOf("node-0")], {
        address: "node-3-new:7946",
      });
      expect(again.localMember.incarnation).toBeGreaterThan(oldInc);
      const moved = () =>
        ids.every((o) => sim.node(o).member("node-3")?.address === "node-3-new:7946");
      expect(await sim.network.runUntil(moved, 30_000)).toBeDefined();
      const kind = waitForDeath ? "join" : "update";
      expect(log.filter((l) => l.includes(`${kind} node-3 normal`)).length).toBeGreaterThanOrEqual(
        4,
      );
      await sim.network.runFor(30_000);
      expect(sim.converged()).toBe(true);
    }
  });

  it("a restart with a lower incarnation learns the remembered one and bumps above it", async () => {
    const { sim, ids } = await small(4);
    const remembered = sim.node("node-2").localMember.incarnation;
    sim.crash("node-2");
    const again = await sim.startAndJoin("node-2", [sim.addressOf("node-0")], {
      incarnation: 5,
      address: "node-2-b:1",
    });
    const moved = () => ids.every((o) => sim.node(o).member("node-2")?.address === "node-2-b:1");
    expect(await sim.network.runUntil(moved, 30_000)).toBeDefined();
    expect(again.localMember.incarnation).toBe(remembered + 1);
    for (const o of ids)
      expect(sim.node(o).member("node-2")).toMatchObject({
        address: "node-2-b:1",
        incarnation: remembered + 1,
      });
  });

  it("a different node at a dead member's address does not answer probes for it", async () => {
    const { sim, ids } = await small(4, 21);
    const address = sim.addressOf("node-1");
    sim.crash("node-1");
    // Another node reuses the address (the kernel gave the port to someone else).
    sim.start("intruder", { address });
    const took = await sim.network.runUntil(
      () => ids.every((o) => o === "node-1" || sim.statusOf(o, "node-1") === "dead"),
      120_000,
    );
    expect(took).toBeDefined();
  });

  it("a duplicate id at another address is logged as a conflict", async () => {
    const warnings: string[] = [];
    const logger: GossipLogger = { debug() {}, info() {}, warn: (m) => warnings.push(m) };
    const sim = new SimCluster({ seed: 8, logger });
    await sim.bootstrap(3);
    inject(sim, "node-1", {
      type: "alive",
      id: "node-1",
      address: "impostor:1",
      incarnation: EPOCH + 50,
      phase: "normal",
      metadata: new Uint8Array(),
    });
    await sim.network.runFor(10);
    expect(warnings.some((w) => w.includes("another address claims this node's id"))).toBe(true);
    expect(sim.node("node-1").localMember.incarnation).toBe(EPOCH + 51);
  });
});

describe("robustness", () => {
  it("malformed datagrams are counted and dropped; a throwing listener does not stop the others", async () => {
    const warnings: string[] = [];
    const sim = new SimCluster({
      seed: 9,
      logger: { debug() {}, info() {}, warn: (m) => warnings.push(m) },
    });
    const ids = await sim.bootstrap(3);
    sim.network
      .transportFor("junk:1")
      .send(sim.addressOf("node-0"), new Uint8Array([1, 250, 99, 1]));
    sim.network.transportFor("junk:1").send(sim.addressOf("node-0"), new Uint8Array([77]));
    await sim.network.runFor(10);
    expect(sim.node("node-0").stats().malformed).toBe(2);
    let second = 0;
    sim.node("node-0").on("update", () => {
      throw new Error("boom");
    });
    sim.node("node-0").on("update", () => second++);
    sim.node("node-1").setMetadata(new Uint8Array([1]));
    await sim.network.runFor(5000);
    expect(second).toBe(1);
    expect(warnings).toContain("gossip: member event listener threw");
    expect(sim.converged()).toBe(true);
    expect(ids).toHaveLength(3);
  });

  it("events caused by a listener are delivered after the current one, in order", async () => {
    const { sim } = await small(2);
    const g = sim.node("node-0");
    const seen: string[] = [];
    g.subscribe((e) => {
      seen.push(`${e.type}:${e.member.metadata.join()}`);
      if (e.member.metadata[0] === 1) g.setMetadata(new Uint8Array([2]));
    });
    g.on("update", (e) => seen.push(`typed:${e.member.metadata.join()}`));
    g.setMetadata(new Uint8Array([1]));
    expect(seen).toEqual(["typed:1", "update:1", "typed:2", "update:2"]);
  });

  it("rejects remote members whose metadata exceeds this node's limit", async () => {
    const warnings: string[] = [];
    const sim = new SimCluster({
      seed: 10,
      logger: { debug() {}, info() {}, warn: (m) => warnings.push(m) },
    });
    sim.start("small", { config: { maxMetadataBytes: 16 } });
    await sim.startAndJoin("big", [sim.addressOf("small")], { metadata: new Uint8Array(100) });
    await sim.network.runFor(2000);
    expect(sim.node("small").member("big")).toBeUndefined();
    expect(sim.node("big").member("small")?.status).toBe("normal");
    expect(warnings.some((w) => w.includes("maxMetadataBytes"))).toBe(true);
  });
});
