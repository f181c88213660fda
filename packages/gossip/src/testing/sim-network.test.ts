import { describe, expect, it } from "vitest";
import type { Transport } from "../transport.js";
import { SeededRandom } from "./seeded-random.js";
import { SimNetwork } from "./sim-network.js";

function listen(
  t: Transport,
  log: string[],
  name: string,
  reply?: (d: Uint8Array) => Uint8Array,
): void {
  t.listen({
    onMessage: (from, data) => log.push(`${name}<-${from}:${data[0]}`),
    onRequest: (_from, data) => {
      if (reply === undefined) throw new Error("no");
      return reply(data);
    },
  });
}

async function history(seed: number): Promise<string[]> {
  const net = new SimNetwork({
    seed,
    link: { lossProbability: 0.3, minDelayMs: 1, maxDelayMs: 20 },
  });
  const log: string[] = [];
  const a = net.transportFor("a");
  const b = net.transportFor("b");
  listen(b, log, "b");
  for (let i = 0; i < 50; i++)
    net.clockFor("a").schedule(() => a.send("b", new Uint8Array([i])), i);
  await net.runFor(100);
  return log;
}

describe("SeededRandom", () => {
  it("is reproducible, uniform enough, and forks independent streams", () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
    expect(new SeededRandom(43).next()).not.toBe(new SeededRandom(42).next());
    expect(new SeededRandom(42).fork("x").next()).not.toBe(new SeededRandom(42).fork("y").next());
    expect(new SeededRandom(42).fork("x").next()).toBe(new SeededRandom(42).fork("x").next());
  });
});

describe("SimNetwork", () => {
  it("one seed gives one history; another seed another", async () => {
    const h1 = await history(5);
    expect(await history(5)).toEqual(h1);
    expect(await history(6)).not.toEqual(h1);
  });

  it("loses datagrams at the configured rate and delays them within the range", async () => {
    const net = new SimNetwork({
      seed: 1,
      link: { lossProbability: 0.1, minDelayMs: 3, maxDelayMs: 7 },
    });
    const arrivals: number[] = [];
    net
      .transportFor("b")
      .listen({ onMessage: () => arrivals.push(net.elapsedMs), onRequest: () => new Uint8Array() });
    const a = net.transportFor("a");
    for (let i = 0; i < 10_000; i++) a.send("b", new Uint8Array([1]));
    await net.runFor(10);
    const s = net.stats();
    expect(s.lost + s.delivered).toBe(10_000);
    // Binomial(10000, 0.1): sd = 30; 5 sd either way.
    expect(s.lost).toBeGreaterThan(850);
    expect(s.lost).toBeLessThan(1150);
    expect(Math.min(...arrivals)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...arrivals)).toBeLessThanOrEqual(7);
  });

  it("partitions block both ways until healed; unknown addresses drop", async () => {
    const net = new SimNetwork({ seed: 1 });
    const log: string[] = [];
    for (const n of ["a", "b", "c"]) listen(net.transportFor(n), log, n);
    net.partition(["a"], ["b"]);
    expect(net.canReach("a", "b")).toBe(false);
    expect(net.canReach("a", "c")).toBe(true);
    net.transportFor("a").send("b", new Uint8Array([1]));
    net.transportFor("b").send("a", new Uint8Array([2]));
    net.transportFor("a").send("c", new Uint8Array([3]));
    net.transportFor("a").send("nobody", new Uint8Array([4]));
    await net.runFor(5);
    expect(log).toEqual(["c<-a:3"]);
    net.heal();
    net.transportFor("a").send("b", new Uint8Array([5]));
    await net.runFor(5);
    expect(log).toEqual(["c<-a:3", "b<-a:5"]);
    expect(net.stats().blocked).toBe(3);
  });

  it("a crashed host loses its timers and inbound messages; the address can be reused", async () => {
    const net = new SimNetwork({ seed: 1, link: { minDelayMs: 10, maxDelayMs: 10 } });
    const log: string[] = [];
    listen(net.transportFor("b"), log, "b");
    net.clockFor("b").schedule(() => log.push("timer"), 5);
    net.transportFor("a").send("b", new Uint8Array([1]));
    net.crash("b");
    await net.runFor(20);
    expect(log).toEqual([]);
    listen(net.transportFor("b"), log, "b2");
    net.transportFor("a").send("b", new Uint8Array([2]));
    await net.runFor(20);
    expect(log).toEqual(["b2<-a:2"]);
  });

  it("a paused host runs nothing; on resume its late timers run first, then waiting messages", async () => {
    const net = new SimNetwork({ seed: 1, link: { minDelayMs: 1, maxDelayMs: 1 } });
    const log: string[] = [];
    const b = net.transportFor("b");
    listen(b, log, "b");
    const cancelled = net.clockFor("b").schedule(() => log.push("cancelled"), 20);
    net.clockFor("b").schedule(() => log.push(`timer@${net.elapsedMs}`), 10);
    net.pause("b");
    net.transportFor("a").send("b", new Uint8Array([1]));
    await net.runFor(50);
    expect(log).toEqual([]);
    expect(net.isPaused("b")).toBe(true);
    cancelled();
    net.resume("b");
    await net.runFor(1);
    expect(log).toEqual(["timer@50", "b<-a:1"]);
  });

  it("requests: answered, refused when nobody listens, hung across a partition until aborted", async () => {
    const net = new SimNetwork({ seed: 1, link: { minDelayMs: 2, maxDelayMs: 2 } });
    listen(net.transportFor("b"), [], "b", (d) => new Uint8Array([d[0]! + 1]));
    const a = net.transportFor("a");
    const ok = a.request!("b", new Uint8Array([41]), new AbortController().signal);
    await net.runFor(10);
    expect([...(await ok)]).toEqual([42]);

    const refused = a.request!("nobody", new Uint8Array([1]), new AbortController().signal);
    refused.catch(() => {});
    await net.runFor(10);
    await expect(refused).rejects.toThrow(/nothing listens/);

    const failing = net.transportFor("c");
    listen(failing, [], "c");
    const thrown = a.request!("c", new Uint8Array([1]), new AbortController().signal);
    thrown.catch(() => {});
    await net.runFor(10);
    await expect(thrown).rejects.toThrow(/failed the request/);

    net.partition(["a"], ["b"]);
    const ac = new AbortController();
    let settled = false;
    const hung = a.request!("b", new Uint8Array([1]), ac.signal);
    hung.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    await net.runFor(1000);
    expect(settled).toBe(false);
    ac.abort(new Error("deadline"));
    await expect(hung).rejects.toThrow("deadline");
  });
});
