import { describe, expect, it } from "vitest";
import { suspicionTimeoutMs } from "./config.js";
import { Suspicion } from "./suspicion.js";
import { SimNetwork } from "./testing/sim-network.js";
import { Timers } from "./timers.js";

function setup() {
  const net = new SimNetwork({ seed: 7 });
  const clock = net.clockFor("a");
  return { net, clock, timers: new Timers(clock) };
}

describe("Suspicion", () => {
  const bounds = { minMs: 1000, maxMs: 6000, confirmations: 2 };

  it("expires at max when nobody confirms", async () => {
    const { net, clock, timers } = setup();
    let firedAt: number | undefined;
    new Suspicion("x", bounds, clock, timers, () => {
      firedAt = net.elapsedMs;
    });
    await net.runFor(5999);
    expect(firedAt).toBeUndefined();
    await net.runFor(10);
    expect(firedAt).toBe(6000);
  });

  it("independent confirmations shorten it; repeats and the starter do not count", async () => {
    const { net, clock, timers } = setup();
    let firedAt: number | undefined;
    const s = new Suspicion("x", bounds, clock, timers, () => {
      firedAt = net.elapsedMs;
    });
    await net.runFor(500);
    expect(s.confirm("x")).toBe(false);
    expect(s.confirm("y")).toBe(true);
    expect(s.confirm("y")).toBe(false);
    expect(s.confirmations).toBe(1);
    expect(s.timeoutMs).toBe(suspicionTimeoutMs(bounds, 1));
    await net.runFor(500);
    expect(s.confirm("z")).toBe(true);
    // k reached: further confirmations change nothing.
    expect(s.confirm("w")).toBe(false);
    await net.runFor(10_000);
    expect(firedAt).toBe(1000);
  });

  it("a confirmation past the new timeout fires it at once", async () => {
    const { net, clock, timers } = setup();
    let fired = 0;
    const s = new Suspicion("x", bounds, clock, timers, () => fired++);
    await net.runFor(4000);
    s.confirm("y");
    s.confirm("z");
    await net.runFor(0);
    expect(fired).toBe(1);
    await net.runFor(10_000);
    expect(fired).toBe(1);
  });

  it("k = 0 starts at min; cancel prevents the timeout", async () => {
    const { net, clock, timers } = setup();
    let fired = 0;
    new Suspicion("x", { minMs: 300, maxMs: 1800, confirmations: 0 }, clock, timers, () => fired++);
    const s = new Suspicion("x", bounds, clock, timers, () => fired++);
    await net.runFor(301);
    expect(fired).toBe(1);
    s.cancel();
    expect(s.confirm("y")).toBe(false);
    await net.runFor(10_000);
    expect(fired).toBe(1);
  });
});
