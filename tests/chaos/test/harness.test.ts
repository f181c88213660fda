import { checkDeadlines, HistoryRecorder } from "@distkv/history";
import { Consistency } from "@distkv/rpc";
import { afterEach, describe, expect, it } from "vitest";
import { ChaosCluster } from "../src/cluster.js";
import { checkConvergence, waitHintsDrained } from "../src/convergence.js";
import {
  ErrorCounts,
  encodeText,
  getKey,
  putKey,
  type WorkloadContext,
} from "../src/workload-context.js";

describe("the chaos harness and its checks against real processes", () => {
  let cluster: ChaosCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it("records an operation sent to a frozen node as late: the deadline check can fail", async () => {
    cluster = await ChaosCluster.start({
      ids: ["solo"],
      conflictPolicy: "siblings",
      extraArgs: ["-replicas=1", "-read-quorum=1", "-write-quorum=1"],
    });
    await cluster.waitAllAlive(30_000);
    const recorder = new HistoryRecorder();
    const ctx: WorkloadContext = {
      cluster,
      recorder,
      deadlineMs: 500,
      localTimeoutMs: 3000,
      errors: new ErrorCounts(),
      stopped: () => false,
    };
    const timed = async (process: string) => {
      const op = recorder.invoke({ process, key: "k", type: "read", coordinator: "solo" });
      try {
        await getKey(ctx, "solo", "k");
        op.ok({ values: [] });
      } catch (e) {
        op.fail(String(e));
      }
    };
    await putKey(ctx, "solo", "k", encodeText("v"), undefined);
    await timed("awake");
    cluster.pause("solo");
    const frozen = timed("frozen");
    await new Promise((r) => setTimeout(r, 3500));
    cluster.resume("solo");
    await frozen;
    const result = checkDeadlines(recorder.history(), { deadlineMs: 500, slackMs: 500 });
    expect(result.counts.late).toBe(1);
    expect(result.anomalies[0]!.op.process).toBe("frozen");
    expect(result.anomalies[0]!.durationMs!).toBeGreaterThanOrEqual(2900);
  }, 60_000);

  it("finds replicas that differ while a node is cut off, and sees them converge after healing", async () => {
    cluster = await ChaosCluster.start({
      ids: ["node1", "node2", "node3"],
      conflictPolicy: "siblings",
    });
    await cluster.waitAllAlive(60_000);
    const cut = (to: string[]) => to.map((nodeId) => ({ nodeId, dropProbability: 1 }));
    await cluster.setLinkFaults("node1", cut(["node3"]));
    await cluster.setLinkFaults("node2", cut(["node3"]));
    await cluster.setLinkFaults("node3", cut(["node1", "node2"]));
    const key = "cut-off";
    await cluster.client("node1").kv.put({
      key: encodeText(key),
      value: encodeText("v1"),
      options: { consistency: Consistency.QUORUM },
    });
    const before = await checkConvergence(cluster, [key], {
      replicas: 3,
      timeoutMs: 0,
      log: () => {},
      // One round and no repair: the difference must be seen as it is.
      repair: async () => {},
    });
    expect(before.diverged).toHaveLength(1);
    expect(before.diverged[0]!.difference).toMatch(/node3 stores nothing/);

    for (const id of cluster.ids) await cluster.setLinkFaults(id, []);
    await cluster.waitAllAlive(60_000);
    const after = await checkConvergence(cluster, [key], {
      replicas: 3,
      timeoutMs: 20_000,
      log: () => {},
      repair: async (keys) => {
        for (const k of keys) {
          await cluster!
            .client("node2")
            .kv.get({ key: encodeText(k), options: { consistency: Consistency.ALL } })
            .catch(() => undefined);
        }
      },
    });
    expect(after.diverged).toEqual([]);
    const hints = await waitHintsDrained(cluster, 20_000);
    expect(hints.drained).toBe(true);
  }, 180_000);
});
