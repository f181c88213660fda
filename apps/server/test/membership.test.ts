import { Code, ConnectError } from "@connectrpc/connect";
import { HashRing } from "@distkv/ring";
import { Consistency, type DistKVClient, NodeState, type StatusResponse } from "@distkv/rpc";
import { afterEach, describe, expect, it } from "vitest";
import { ClusterHarness, eventually } from "./harness.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string) => enc.encode(s);
const QUORUM = { consistency: Consistency.QUORUM };

function stateOf(status: StatusResponse, id: string): NodeState | undefined {
  return status.nodes.find((n) => n.id === id)?.state;
}

/** Waits until every listed node sees every other listed node in `state`. */
async function allSee(h: ClusterHarness, ids: string[], state: NodeState, timeoutMs = 30_000) {
  await eventually(
    async () => {
      for (const id of ids) {
        const s = await h.client(id).cluster.status({});
        if (!ids.every((other) => stateOf(s, other) === state)) return false;
      }
      return true;
    },
    timeoutMs,
    200,
  );
}

async function startThree(h: ClusterHarness, extra: string[] = []) {
  const first = await h.start("node1", { extra });
  await h.start("node2", { seeds: [first.address], extra });
  await h.start("node3", { seeds: [first.address], extra });
  await allSee(h, ["node1", "node2", "node3"], NodeState.ALIVE);
  return first.address;
}

/**
 * Quorum writes of unique keys and reads of written ones from several clients until stopped.
 * Every acknowledged write is remembered; every failure is kept with its message.
 */
function load(clients: DistKVClient[], prefix: string) {
  const acked = new Map<string, string>();
  const failures: string[] = [];
  let stop = false;
  let n = 0;
  const worker = async (w: number) => {
    const client = clients[w % clients.length]!;
    while (!stop) {
      const key = `${prefix}-${w}-${n++}`;
      try {
        await client.kv.put({ key: b(key), value: b(`v:${key}`), options: QUORUM });
        acked.set(key, `v:${key}`);
        const keys = [...acked.keys()];
        const probe = keys[Math.floor(Math.random() * keys.length)]!;
        const got = await client.kv.get({ key: b(probe), options: QUORUM });
        if (!got.found || dec.decode(got.siblings[0]!.value) !== acked.get(probe)) {
          failures.push(`read of ${probe} found ${got.found ? "another value" : "nothing"}`);
        }
      } catch (e) {
        failures.push(`${key}: ${(e as Error).message}`);
      }
    }
  };
  const running = Promise.all([0, 1, 2, 3].map(worker));
  return {
    acked,
    failures,
    async stop() {
      stop = true;
      await running;
    },
  };
}

async function readAll(client: DistKVClient, acked: Map<string, string>): Promise<string[]> {
  const missing: string[] = [];
  for (const [key, value] of acked) {
    const got = await client.kv.get({ key: b(key), options: QUORUM });
    if (!got.found || dec.decode(got.siblings[0]!.value) !== value) missing.push(key);
  }
  return missing;
}

describe("elastic membership with real processes", () => {
  const h = new ClusterHarness();
  afterEach(async () => {
    await h.cleanup();
  });

  it("grows from 3 to 5 nodes under quorum load without a failed request, then decommissions one", async () => {
    const seed = await startThree(h);
    const clients = ["node1", "node2", "node3"].map((id) => h.client(id));
    // Data that is there before the joins: what the new nodes must stream in.
    for (let i = 0; i < 1500; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          clients[0]!.kv.put({ key: b(`pre-${i + j}`), value: b(`v:pre-${i + j}`) }),
        ),
      );
    }
    const pre = new Map(Array.from({ length: 1500 }, (_, i) => [`pre-${i}`, `v:pre-${i}`]));
    const running = load(clients, "k");

    const moved: { node: string; keys: number; total: number; fraction: number; ideal: number }[] =
      [];
    for (const [id, before] of [
      ["node4", 3],
      ["node5", 4],
    ] as const) {
      const total = pre.size + running.acked.size;
      await h.start(id, { seeds: [seed] });
      await eventually(
        async () => stateOf(await h.client(id).cluster.status({}), id) === NodeState.ALIVE,
        60_000,
        200,
      );
      const s = await h.client(id).cluster.status({});
      expect(s.streaming?.kind).toBe("join");
      const keys = Number(s.streaming!.keysMoved);
      // The copies the new node took over, of all N copies of the keys that existed.
      moved.push({
        node: id,
        keys,
        total,
        fraction: keys / (3 * total),
        ideal: 1 / (before + 1),
      });
    }
    const ids = ["node1", "node2", "node3", "node4", "node5"];
    await allSee(h, ids, NodeState.ALIVE);
    await new Promise((r) => setTimeout(r, 500));
    await running.stop();
    console.log(
      `grow 3->5: ${running.acked.size} quorum writes during the joins, ${running.failures.length} failed; moved per join: ${moved
        .map(
          (m) =>
            `${m.node} ${m.keys} keys = ${m.fraction.toFixed(3)} of all copies (ideal 1/(N+1) = ${m.ideal.toFixed(3)})`,
        )
        .join("; ")}`,
    );
    expect(running.failures).toEqual([]);
    expect(running.acked.size).toBeGreaterThan(0);
    for (const m of moved) {
      // Consistent hashing moves about 1/(N+1) of the copies; 150 vnodes keep it near that.
      expect(m.fraction).toBeGreaterThan(m.ideal * 0.6);
      expect(m.fraction).toBeLessThan(m.ideal * 1.5);
    }
    const all = new Map([...pre, ...running.acked]);
    expect(await readAll(h.client("node5"), all)).toEqual([]);

    // Decommission node2 (5 -> 4): it hands its data over, turns left and exits.
    const c1 = h.client("node1");
    const res = await c1.cluster.decommission({ nodeId: "node2" });
    expect(res.nodeId).toBe("node2");
    expect(await h.nodes.get("node2")!.exit).toBe(0);
    const rest = ["node1", "node3", "node4", "node5"];
    await eventually(
      async () => {
        for (const id of rest) {
          if (stateOf(await h.client(id).cluster.status({}), "node2") !== NodeState.LEFT) {
            return false;
          }
        }
        return true;
      },
      30_000,
      200,
    );
    // Every key is still readable at quorum, and at `all` from the remaining four.
    expect(await readAll(h.client("node3"), all)).toEqual([]);
    const sample = [...all.keys()].filter((_, i) => i % 25 === 0);
    for (const key of sample) {
      const got = await h.client("node4").kv.get({
        key: b(key),
        options: { consistency: Consistency.ALL },
      });
      expect(got.found, key).toBe(true);
    }
    // A decommissioned node refuses to start again with its old data dir.
    const again = await h.start("node2-again", { dataDir: h.nodes.get("node2")!.dataDir }).then(
      () => "started",
      (e: Error) => e.message,
    );
    expect(again).toMatch(/decommissioned/);
  }, 240_000);

  it("marks a SIGKILLed node dead on every node within the bound, and a briefly paused node never", async () => {
    const seed = await startThree(h);
    await h.start("node4", { seeds: [seed] });
    await allSee(h, ["node1", "node2", "node3", "node4"], NodeState.ALIVE, 60_000);
    const others = ["node1", "node2", "node3"];

    // Paused for 2 s, less than the 4 s minimum suspicion timeout (lan preset): suspected
    // perhaps, but refuted on resume, never dead.
    const watchDead = async (target: string, ms: number): Promise<string[]> => {
      const seenDead: string[] = [];
      const until = Date.now() + ms;
      while (Date.now() < until) {
        for (const id of others) {
          const state = stateOf(await h.client(id).cluster.status({}), target);
          if (state === NodeState.DEAD) seenDead.push(id);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return seenDead;
    };
    const paused = h.nodes.get("node4")!;
    paused.proc.kill("SIGSTOP");
    const watching = watchDead("node4", 8000);
    await new Promise((r) => setTimeout(r, 2000));
    paused.proc.kill("SIGCONT");
    expect(await watching).toEqual([]);
    await allSee(h, ["node1", "node2", "node3", "node4"], NodeState.ALIVE);

    // Killed: every other node declares it dead. Bound: a probe reaches it within
    // (n - 1) probe intervals, and an unconfirmed suspicion lasts at most 6 x 4 s.
    const killedAt = Date.now();
    await h.kill("node4");
    const detected: number[] = [];
    await Promise.all(
      others.map(async (id) => {
        await eventually(
          async () => stateOf(await h.client(id).cluster.status({}), "node4") === NodeState.DEAD,
          40_000,
          100,
        );
        detected.push(Date.now() - killedAt);
      }),
    );
    console.log(`SIGKILL detected dead after ${detected.map((ms) => `${ms} ms`).join(", ")}`);
    for (const ms of detected) expect(ms).toBeLessThan(3 * 1000 + 24_000 + 2000);
    // A dead node stays on the ring (failure is not removal): quorum writes still succeed.
    const put = await h.client("node1").kv.put({ key: b("after"), value: b("v"), options: QUORUM });
    expect(put.replicasAcked).toBeGreaterThanOrEqual(2);

    // A key node4 replicates cannot be written at `all` while node4 is dead (hinted copies
    // do not count for `all`)...
    const ring = new HashRing();
    for (const id of ["node1", "node2", "node3", "node4"]) ring.addNode(id, { virtualNodes: 150 });
    const key = Array.from({ length: 100 }, (_, i) => `r-${i}`).find((k) =>
      ring.preferenceList(b(k), 3).includes("node4"),
    )!;
    const ALL = { consistency: Consistency.ALL };
    const putAll = () => h.client("node1").kv.put({ key: b(key), value: b("v"), options: ALL });
    const refused = await putAll().then(
      () => undefined,
      (e: unknown) => ConnectError.from(e).code,
    );
    expect(refused).toBe(Code.Unavailable);
    // ...removal is refused for a live node, an unknown one and the node itself...
    const code = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => ConnectError.from(e).code,
      );
    const c2 = h.client("node2");
    expect(await code(c2.cluster.removeNode({ nodeId: "node1" }))).toBe(Code.FailedPrecondition);
    expect(await code(c2.cluster.removeNode({ nodeId: "node9" }))).toBe(Code.NotFound);
    expect(await code(c2.cluster.removeNode({ nodeId: "node2" }))).toBe(Code.InvalidArgument);
    // ...and once node4 is removed (left everywhere, off every ring) the write needs only the
    // three others.
    expect((await c2.cluster.removeNode({ nodeId: "node4" })).nodeId).toBe("node4");
    await eventually(
      async () => {
        for (const id of others) {
          if (stateOf(await h.client(id).cluster.status({}), "node4") !== NodeState.LEFT) {
            return false;
          }
        }
        return true;
      },
      30_000,
      200,
    );
    expect((await putAll()).replicasAcked).toBe(3);
    // Removing it again changes nothing.
    expect((await h.client("node3").cluster.removeNode({ nodeId: "node4" })).nodeId).toBe("node4");
  }, 120_000);
});
