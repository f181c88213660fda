import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  GOSSIP_PRESETS,
  pushPullIntervalFor,
  resolveGossipConfig,
  retransmitLimit,
  suspicionBounds,
  suspicionTimeoutMs,
} from "./config.js";
import { isInvalidGossipConfigError } from "./errors.js";

describe("resolveGossipConfig", () => {
  it("defaults to the lan preset (memberlist's DefaultLANConfig values)", () => {
    const c = resolveGossipConfig();
    expect(c).toEqual({ preset: "lan", ...GOSSIP_PRESETS.lan });
    expect(c.probeIntervalMs).toBe(1000);
    expect(c.probeTimeoutMs).toBe(500);
    expect(c.indirectChecks).toBe(3);
    expect(c.suspicionMultiplier).toBe(4);
    expect(c.suspicionMaxTimeoutMultiplier).toBe(6);
    expect(c.retransmitMultiplier).toBe(4);
    expect(c.gossipIntervalMs).toBe(200);
    expect(c.gossipNodes).toBe(3);
    expect(c.pushPullIntervalMs).toBe(30_000);
    expect(c.awarenessMaxMultiplier).toBe(8);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("fills unset fields from the chosen preset and keeps explicit ones", () => {
    const c = resolveGossipConfig({ preset: "local", probeIntervalMs: 700 });
    expect(c.preset).toBe("local");
    expect(c.probeIntervalMs).toBe(700);
    expect(c.probeTimeoutMs).toBe(GOSSIP_PRESETS.local.probeTimeoutMs);
    expect(c.indirectChecks).toBe(1);
    expect(resolveGossipConfig({ preset: "wan" }).probeIntervalMs).toBe(5000);
  });

  it("every preset is valid", () => {
    for (const preset of ["lan", "local", "wan"] as const) {
      expect(resolveGossipConfig({ preset }).preset).toBe(preset);
    }
  });

  const bad: [string, unknown][] = [
    ["probeIntervalMs", 0],
    ["probeIntervalMs", Number.NaN],
    ["probeIntervalMs", "1000"],
    ["probeTimeoutMs", -1],
    ["indirectChecks", 1.5],
    ["indirectChecks", -1],
    ["suspicionMultiplier", 0],
    ["suspicionMultiplier", 2.5],
    ["suspicionMaxTimeoutMultiplier", 0.5],
    ["retransmitMultiplier", 0],
    ["gossipIntervalMs", 0],
    ["gossipNodes", 0],
    ["pushPullIntervalMs", -5],
    ["pushPullTimeoutMs", 0],
    ["awarenessMaxMultiplier", 0],
    ["maxDatagramBytes", 100],
    ["maxMetadataBytes", -1],
    ["preset", "mars"],
  ];
  it.each(bad)("rejects %s = %s, naming the field", (field, value) => {
    let error: unknown;
    try {
      resolveGossipConfig({ [field]: value } as never);
    } catch (e) {
      error = e;
    }
    expect(isInvalidGossipConfigError(error)).toBe(true);
    expect((error as Error).message).toContain(field);
  });

  it("rejects unknown fields, non-objects and inconsistent combinations", () => {
    expect(() => resolveGossipConfig({ probeInterval: 5 } as never)).toThrow(/unknown/);
    expect(() => resolveGossipConfig(null as never)).toThrow(/object/);
    expect(() => resolveGossipConfig({ probeTimeoutMs: 1000, probeIntervalMs: 1000 })).toThrow(
      /probeTimeoutMs/,
    );
    expect(() => resolveGossipConfig({ deadRetentionMs: 10, gossipToTheDeadMs: 20 })).toThrow(
      /deadRetentionMs/,
    );
    expect(() => resolveGossipConfig({ maxMetadataBytes: 1000, maxDatagramBytes: 1400 })).toThrow(
      /maxMetadataBytes/,
    );
    expect(
      resolveGossipConfig({ maxMetadataBytes: 4000, maxDatagramBytes: 8000 }).maxMetadataBytes,
    ).toBe(4000);
  });
});

describe("formulas", () => {
  it("retransmit limit is mult * ceil(log10(n + 1))", () => {
    expect(retransmitLimit(4, 1)).toBe(4);
    expect(retransmitLimit(4, 9)).toBe(4);
    expect(retransmitLimit(4, 10)).toBe(8);
    expect(retransmitLimit(4, 64)).toBe(8);
    expect(retransmitLimit(4, 99)).toBe(8);
    expect(retransmitLimit(4, 100)).toBe(12);
    expect(retransmitLimit(2, 1000)).toBe(8);
  });

  it("push-pull interval grows with log2(n) above 32 members", () => {
    expect(pushPullIntervalFor(30_000, 1)).toBe(30_000);
    expect(pushPullIntervalFor(30_000, 32)).toBe(30_000);
    expect(pushPullIntervalFor(30_000, 33)).toBe(60_000);
    expect(pushPullIntervalFor(30_000, 64)).toBe(60_000);
    expect(pushPullIntervalFor(30_000, 65)).toBe(90_000);
    expect(pushPullIntervalFor(30_000, 1000)).toBe(30_000 * 6);
  });

  it("suspicion bounds follow mult * max(1, log10 n) * interval, with k = mult - 2", () => {
    const lan = resolveGossipConfig();
    const b64 = suspicionBounds(lan, 64);
    expect(b64.minMs).toBeCloseTo(4 * Math.log10(64) * 1000, 6);
    expect(b64.maxMs).toBeCloseTo(6 * b64.minMs, 6);
    expect(b64.confirmations).toBe(2);
    expect(suspicionBounds(lan, 5).minMs).toBe(4000);
    // Too few members to confirm: the timeout is min from the start.
    expect(suspicionBounds(lan, 3).confirmations).toBe(0);
    expect(suspicionTimeoutMs(suspicionBounds(lan, 3), 0)).toBe(4000);
  });

  it("the timeout falls from max to min as confirmations arrive, never below min", () => {
    const b = { minMs: 1000, maxMs: 6000, confirmations: 3 };
    expect(suspicionTimeoutMs(b, 0)).toBe(6000);
    expect(suspicionTimeoutMs(b, 3)).toBe(1000);
    expect(suspicionTimeoutMs(b, 1)).toBe(Math.floor(6000 - 5000 * (Math.log(2) / Math.log(4))));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 20 }),
        (minMs, mult, k, c) => {
          const bounds = { minMs, maxMs: minMs * mult, confirmations: k };
          const t = suspicionTimeoutMs(bounds, c);
          expect(t).toBeGreaterThanOrEqual(minMs);
          expect(t).toBeLessThanOrEqual(bounds.maxMs);
          expect(suspicionTimeoutMs(bounds, c + 1)).toBeLessThanOrEqual(t);
        },
      ),
    );
  });
});
