import { describe, expect, it } from "vitest";
import { SimNetwork } from "./testing/sim-network.js";
import { Timers } from "./timers.js";

describe("Timers", () => {
  it("run on time, can be cancelled one by one or all at once", async () => {
    const net = new SimNetwork({ seed: 1 });
    const clock = net.clockFor("a");
    const timers = new Timers(clock);
    const fired: string[] = [];
    timers.after(10, () => fired.push("10"));
    const cancel = timers.after(20, () => fired.push("20"));
    timers.after(30, () => fired.push("30"));
    cancel();
    await net.runFor(15);
    expect(fired).toEqual(["10"]);
    expect(timers.size).toBe(1);
    timers.clear();
    await net.runFor(100);
    expect(fired).toEqual(["10"]);
    expect(timers.size).toBe(0);
  });

  it("a timer that fires late (the host was paused) runs after the messages that waited", async () => {
    const net = new SimNetwork({ seed: 1, link: { minDelayMs: 5, maxDelayMs: 5 } });
    const order: string[] = [];
    const timers = new Timers(net.clockFor("a"));
    net.transportFor("a").listen({
      onMessage: () => order.push("message"),
      onRequest: () => new Uint8Array(),
    });
    const sender = net.transportFor("b");
    // Without a pause, the timer at 10 ms runs before a message arriving at 15 ms.
    timers.after(10, () => order.push("timer"));
    net.clockFor("b").schedule(() => sender.send("a", new Uint8Array([1])), 10);
    await net.runFor(20);
    expect(order).toEqual(["timer", "message"]);

    order.length = 0;
    // Paused from 20 to 100 ms: the timer (due 50) and the message (arrives 35) both wait.
    // On resume Node would run the expired timer first; Timers defers it past the message.
    timers.after(30, () => order.push("timer"));
    net.clockFor("b").schedule(() => sender.send("a", new Uint8Array([2])), 10);
    net.pause("a");
    await net.runFor(80);
    expect(order).toEqual([]);
    net.resume("a");
    await net.runFor(1);
    expect(order).toEqual(["message", "timer"]);
  });
});
