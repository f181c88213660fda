import { describe, expect, it } from "vitest";
import type { LinkFaultSpec, NodeRunState } from "../src/cluster.js";
import { FAULT_KINDS, Nemesis, type NemesisTarget, pauseWindows } from "../src/nemesis.js";
import { Random } from "../src/random.js";

/** A cluster that only records what the nemesis does to it. */
class FakeCluster implements NemesisTarget {
  readonly ids = ["n1", "n2", "n3", "n4", "n5"];
  readonly calls: string[] = [];
  readonly links = new Map<string, string[]>();
  readonly state = new Map<string, NodeRunState>(this.ids.map((id) => [id, "running"]));
  readonly offsets = new Map<string, number>();
  readonly startsOf = new Map<string, number>(this.ids.map((id) => [id, 1]));

  node(id: string) {
    return { clockOffsetMs: this.offsets.get(id) ?? 0, starts: this.startsOf.get(id)! };
  }
  inState(s: NodeRunState): string[] {
    return this.ids.filter((id) => this.state.get(id) === s);
  }
  async kill(id: string) {
    this.calls.push(`kill ${id}`);
    this.state.set(id, "killed");
  }
  async stop(id: string) {
    this.calls.push(`stop ${id}`);
    this.state.set(id, "killed");
  }
  async restart(id: string, o: { clockOffsetMs?: number } = {}) {
    expect(this.state.get(id)).toBe("killed");
    this.calls.push(`restart ${id}`);
    if (o.clockOffsetMs !== undefined) this.offsets.set(id, o.clockOffsetMs);
    this.startsOf.set(id, this.startsOf.get(id)! + 1);
    this.state.set(id, "running");
  }
  pause(id: string) {
    expect(this.state.get(id)).toBe("running");
    this.calls.push(`pause ${id}`);
    this.state.set(id, "paused");
  }
  resume(id: string) {
    this.calls.push(`resume ${id}`);
    this.state.set(id, "running");
  }
  async setLinkFaults(id: string, faults: readonly LinkFaultSpec[]) {
    this.links.set(
      id,
      faults.map((f) => f.nodeId),
    );
    return { droppedTotal: faults.length === 0 ? 10 : 0, delayedTotal: 0 };
  }
}

function nemesisFor(cluster: FakeCluster, seed: number, key = "k") {
  let t = 0;
  return new Nemesis(cluster, new Random(seed), {
    kinds: FAULT_KINDS,
    holdMs: [1, 2],
    pauseMs: [1, 2],
    gapMs: [0, 1],
    skewMs: [10_000, 60_000],
    replicas: 3,
    now: () => t++,
    pickKey: () => key,
    log: () => {},
  });
}

async function runFor(n: Nemesis, faults: number): Promise<void> {
  const stop = new AbortController();
  const done = n.run(stop.signal);
  while (n.events.length < faults || n.events.at(-1)!.endMs === null) {
    await new Promise((r) => setTimeout(r, 1));
  }
  stop.abort();
  await done;
}

describe("Nemesis", () => {
  it("injects every kind once per round and leaves nothing broken", async () => {
    const cluster = new FakeCluster();
    const n = nemesisFor(cluster, 3);
    await runFor(n, 8);
    const kinds = n.events.map((e) => e.kind);
    expect([...kinds.slice(0, 4)].sort()).toEqual([...FAULT_KINDS].sort());
    expect([...kinds.slice(4, 8)].sort()).toEqual([...FAULT_KINDS].sort());
    expect(n.errors).toEqual([]);
    await n.heal();
    expect(cluster.inState("running")).toEqual(cluster.ids);
    for (const id of cluster.ids) expect(cluster.links.get(id)).toEqual([]);
    expect(n.events.every((e) => e.endMs !== null && e.endMs >= e.startMs)).toBe(true);
    expect(n.counts().partition).toBeGreaterThanOrEqual(2);
  });

  it("cuts partitions on both sides into two halves", async () => {
    const cluster = new FakeCluster();
    const seen: Map<string, string[]>[] = [];
    const original = cluster.setLinkFaults.bind(cluster);
    cluster.setLinkFaults = async (id, faults) => {
      const r = await original(id, faults);
      if (faults.length > 0 && cluster.ids.every((x) => (cluster.links.get(x) ?? []).length > 0)) {
        seen.push(new Map(cluster.links));
      }
      return r;
    };
    const n = new Nemesis(cluster, new Random(5), {
      kinds: ["partition"],
      holdMs: [1, 1],
      pauseMs: [1, 1],
      gapMs: [0, 0],
      skewMs: [10_000, 10_000],
      replicas: 3,
      now: () => 0,
      pickKey: () => undefined,
      log: () => {},
    });
    await runFor(n, 3);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const links of seen) {
      const side = links.get("n1")!;
      const mine = cluster.ids.filter((id) => !side.includes(id));
      expect([mine.length, side.length].sort()).toEqual([2, 3]);
      for (const a of mine) expect(links.get(a)).toEqual(side);
      for (const b of side) expect([...links.get(b)!].sort()).toEqual([...mine].sort());
    }
    // Every clear after a partition reported 10 dropped calls per node.
    expect(n.droppedCalls).toBeGreaterThan(0);
  });

  it("pauses the coordinator of a key in use and skews by tens of seconds", async () => {
    const cluster = new FakeCluster();
    const n = nemesisFor(cluster, 11, "some-key");
    await runFor(n, 4);
    const pause = n.events.find((e) => e.kind === "pause")!;
    expect(pause.nodes).toEqual([n.coordinatorOf("some-key")]);
    expect(cluster.calls).toContain(`resume ${pause.nodes[0]}`);
    const skew = n.events.find((e) => e.kind === "skew")!;
    const offset = cluster.offsets.get(skew.nodes[0]!)!;
    expect(Math.abs(offset)).toBeGreaterThanOrEqual(10_000);
    expect(Math.abs(offset)).toBeLessThanOrEqual(60_000);
  });

  it("follows its seed", async () => {
    const a = nemesisFor(new FakeCluster(), 99);
    const b = nemesisFor(new FakeCluster(), 99);
    await runFor(a, 6);
    await runFor(b, 6);
    const describe = (n: Nemesis) => n.events.slice(0, 6).map((e) => `${e.kind} ${e.detail}`);
    expect(describe(a)).toEqual(describe(b));
  });

  it("finds the windows in which each node was frozen", () => {
    const windows = pauseWindows(
      [
        { kind: "pause", nodes: ["n2"], detail: "", startMs: 10, endMs: 20 },
        { kind: "kill", nodes: ["n2"], detail: "", startMs: 30, endMs: 40 },
        { kind: "pause", nodes: ["n2"], detail: "", startMs: 50, endMs: null },
      ],
      99,
    );
    expect(windows.get("n2")).toEqual([
      [10, 20],
      [50, 99],
    ]);
    expect(windows.get("n1")).toBeUndefined();
  });
});
