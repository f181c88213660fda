/**
 * Robustness of failure detection on 64-node simulated clusters (lan preset): message loss,
 * a paused node, a slow node, partitions. Seeds start at GOSSIP_SIM_SEED (default 1); every
 * assertion names its seed.
 */
import { describe, expect, it } from "vitest";
import { encodeDatagram, resolveGossipConfig, suspicionBounds } from "../src/index.js";
import { SimCluster } from "../src/testing/index.js";
import {
  cluster,
  countFalseDeaths,
  LAN_64_CLEAN,
  LAN_64_LOSSY,
  partitionScenario,
  pauseScenario,
  stabilityScenario,
} from "./scenarios.js";

const BASE = Number(process.env.GOSSIP_SIM_SEED ?? 1);
const seeds = (n: number): number[] => Array.from({ length: n }, (_, i) => BASE + i);
const TIMEOUT = 180_000;
const MIN_SUSPICION_MS = suspicionBounds(resolveGossipConfig(), 64).minMs;

describe("64 nodes, delays 1-10 ms", () => {
  it(
    "10% loss: no live member is ever declared dead (4 runs x 90 s); every false suspicion is refuted",
    async () => {
      for (const seed of seeds(4)) {
        const r = await stabilityScenario(seed, LAN_64_LOSSY, 90_000);
        expect(r.falseDeaths, `seed ${seed}`).toBe(0);
        // Loss does cause suspicions (about 0.5/s cluster-wide): the test exercises refutation.
        expect(r.refutations, `seed ${seed}`).toBeGreaterThan(10);
      }
    },
    TIMEOUT,
  );

  it(
    "10% loss: a node paused (SIGSTOP) for 90% of the minimum suspicion timeout is not declared dead and declares nobody dead",
    async () => {
      let suspected = 0;
      for (const seed of seeds(6)) {
        const r = await pauseScenario(seed, LAN_64_LOSSY, 0.9 * MIN_SUSPICION_MS);
        if (r.suspectedBy > 0) suspected++;
        expect(r.declaredDeadBy, `seed ${seed}`).toBe(0);
        expect(r.declaredByVictim, `seed ${seed}`).toBe(0);
        expect(r.recoveredMs, `seed ${seed}`).toBeLessThanOrEqual(5000);
      }
      // The pause must have been noticed (suspected) in most runs, or nothing was tested. A run
      // can go unnoticed: nobody happened to probe the node during the pause.
      expect(suspected).toBeGreaterThanOrEqual(4);
    },
    TIMEOUT,
  );

  it(
    "no loss: a node paused right after sending a probe counts the ack that waited in its inbox",
    async () => {
      for (const seed of seeds(6)) {
        const r = await pauseScenario(seed, LAN_64_CLEAN, 0.5 * MIN_SUSPICION_MS);
        expect(r.failedProbesOnResume, `seed ${seed}`).toBe(0);
        expect(r.declaredDeadBy + r.declaredByVictim, `seed ${seed}`).toBe(0);
      }
    },
    TIMEOUT,
  );

  it(
    "10% loss: after a 60 s partition into halves (each side declares the other dead), views converge within 10 s of the heal",
    async () => {
      for (const seed of seeds(3)) {
        const r = await partitionScenario(seed, LAN_64_LOSSY, 60_000);
        expect(r.sidesSplit, `seed ${seed}`).toBe(true);
        expect(r.convergeMs, `seed ${seed}`).toBeLessThanOrEqual(10_000);
        expect(r.sameSideDeaths, `seed ${seed}`).toBe(0);
      }
    },
    TIMEOUT,
  );

  it(
    "10% loss: a suspicion of a live member spread to everyone is refuted everywhere before any timeout",
    async () => {
      const seed = BASE;
      const { sim, ids } = await cluster(seed, LAN_64_LOSSY);
      const falseDeaths = countFalseDeaths(sim, ids);
      const victim = ids[17]!;
      const inc = sim.node(victim).localMember.incarnation;
      const rumour = encodeDatagram([
        { type: "suspect", id: victim, incarnation: inc, from: "rumour" },
      ]);
      for (const o of ids)
        if (o !== victim) sim.network.transportFor("injector:1").send(sim.addressOf(o), rumour);
      await sim.network.runFor(100);
      expect(
        ids.filter((o) => sim.statusOf(o, victim) === "suspect").length,
        `seed ${seed}`,
      ).toBeGreaterThan(50);
      const took = await sim.network.runUntil(
        () => ids.every((o) => sim.node(o).member(victim)?.incarnation === inc + 1),
        MIN_SUSPICION_MS,
      );
      expect(took, `seed ${seed}`).toBeDefined();
      expect(ids.every((o) => sim.statusOf(o, victim) === "normal")).toBe(true);
      await sim.network.runFor(60_000);
      expect(falseDeaths(), `seed ${seed}`).toBe(0);
    },
    TIMEOUT,
  );
});

describe("Lifeguard: a slow node (everything it receives is 1.5 s late)", () => {
  async function run(seed: number, awarenessMaxMultiplier: number) {
    const sim = new SimCluster({
      seed,
      link: { minDelayMs: 1, maxDelayMs: 10 },
      config: { awarenessMaxMultiplier },
    });
    const ids = await sim.bootstrap(64);
    const slow = ids[5]!;
    for (const id of ids) {
      if (id !== slow)
        sim.network.setLink(sim.addressOf(id), sim.addressOf(slow), {
          minDelayMs: 1500,
          maxDelayMs: 1600,
        });
    }
    const falseDeaths = countFalseDeaths(sim, ids);
    let maxScore = 0;
    for (let t = 0; t < 90; t++) {
      await sim.network.runFor(1000);
      maxScore = Math.max(maxScore, sim.node(slow).healthScore);
    }
    return { failures: sim.node(slow).stats().probeFailures, maxScore, falseDeaths: falseDeaths() };
  }

  it(
    "raises its own health score and stops suspecting healthy members; without Lifeguard it keeps suspecting them",
    async () => {
      const seed = BASE;
      const withLifeguard = await run(seed, 8);
      const without = await run(seed, 1);
      expect(withLifeguard.maxScore, `seed ${seed}`).toBeGreaterThanOrEqual(4);
      expect(withLifeguard.failures, `seed ${seed}`).toBeLessThanOrEqual(5);
      expect(without.failures, `seed ${seed}`).toBeGreaterThan(60);
      expect(withLifeguard.falseDeaths + without.falseDeaths, `seed ${seed}`).toBe(0);
    },
    TIMEOUT,
  );
});
