/**
 * Dissemination and detection bounds on 64-node simulated clusters (lan preset), over several
 * seeds. Seeds start at GOSSIP_SIM_SEED (default 1) so other seeds can be explored; every
 * assertion names its seed. bench/simulate.ts runs the same scenarios over 100 seeds for the
 * figures in the README.
 */
import { describe, expect, it } from "vitest";
import { resolveGossipConfig, suspicionBounds } from "../src/index.js";
import {
  deathScenario,
  joinScenario,
  LAN_64_CLEAN,
  LAN_64_LOSSY,
  leaveScenario,
  type NetworkCase,
} from "./scenarios.js";

const BASE = Number(process.env.GOSSIP_SIM_SEED ?? 1);
const seeds = (n: number): number[] => Array.from({ length: n }, (_, i) => BASE + i);
const TIMEOUT = 120_000;
const MIN_SUSPICION_MS = suspicionBounds(resolveGossipConfig(), 64).minMs;

const cases: [string, NetworkCase, number][] = [
  ["no loss", LAN_64_CLEAN, 6],
  ["10% loss", LAN_64_LOSSY, 12],
];

describe.each(cases)("64 nodes, %s, delays 1-10 ms", (_name, c, n) => {
  it(
    "every member learns of a join within 2 s",
    async () => {
      for (const seed of seeds(n)) {
        const r = await joinScenario(seed, c);
        expect(r.allKnowMs, `seed ${seed}`).toBeLessThanOrEqual(2000);
      }
    },
    TIMEOUT,
  );

  it(
    "every live member learns of a crash within 20 s, and nobody else is declared dead",
    async () => {
      for (const seed of seeds(n)) {
        const r = await deathScenario(seed, c);
        expect(r.allDeadMs, `seed ${seed}`).toBeLessThanOrEqual(20_000);
        // Never before the minimum suspicion timeout (7.2 s at n=64): suspicion gives time to refute.
        expect(r.firstDeadMs! - r.firstSuspectMs!, `seed ${seed}`).toBeGreaterThanOrEqual(
          MIN_SUSPICION_MS - 0.01,
        );
        expect(r.falseDeaths, `seed ${seed}`).toBe(0);
      }
    },
    TIMEOUT,
  );

  it(
    "a graceful leave reaches every member within 2 s and is never mistaken for a death",
    async () => {
      for (const seed of seeds(Math.ceil(n / 2))) {
        const r = await leaveScenario(seed, c);
        expect(r.propagated, `seed ${seed}`).toBe(true);
        expect(r.allKnowMs, `seed ${seed}`).toBeLessThanOrEqual(2000);
        expect(r.deadEvents, `seed ${seed}`).toBe(0);
      }
    },
    TIMEOUT,
  );
});
