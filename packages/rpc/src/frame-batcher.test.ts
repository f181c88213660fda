import { describe, expect, it } from "vitest";
import { FrameBatcher } from "./frame-batcher.js";
import { resolveMuxServerOptions } from "./mux-server.js";

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("FrameBatcher", () => {
  it("sends all frames added in one event-loop turn as one message", async () => {
    const sent: number[][] = [];
    const b = new FrameBatcher<number>((f) => sent.push(f), {
      coalesce: true,
      maxBatchBytes: 1 << 20,
    });
    for (let i = 0; i < 100; i++) b.add(i, 10);
    // Microtasks of the same turn still join the batch.
    await Promise.resolve();
    b.add(100, 10);
    expect(sent).toEqual([]);
    await turn();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toEqual(Array.from({ length: 101 }, (_, i) => i));
    b.add(1, 1);
    await turn();
    expect(sent).toHaveLength(2);
    expect(b.stats).toEqual({ messages: 2, frames: 102 });
  });

  it("sends one message per frame with coalescing off", () => {
    const sent: number[][] = [];
    const b = new FrameBatcher<number>((f) => sent.push(f), {
      coalesce: false,
      maxBatchBytes: 1 << 20,
    });
    for (let i = 0; i < 5; i++) b.add(i, 10);
    expect(sent).toEqual([[0], [1], [2], [3], [4]]);
  });

  it("flushes before a batch would pass maxBatchBytes; a large frame goes alone", async () => {
    const sent: number[][] = [];
    const b = new FrameBatcher<number>((f) => sent.push(f), { coalesce: true, maxBatchBytes: 100 });
    b.add(1, 40);
    b.add(2, 40);
    b.add(3, 40); // 120 > 100: [1, 2] leave first
    b.add(4, 500); // larger than the limit: [3] leaves, then 4 waits alone
    b.add(5, 1);
    await turn();
    expect(sent).toEqual([[1, 2], [3], [4], [5]]);
  });

  it("flushes as soon as a batch holds maxBatchFrames frames; the rest waits for the turn", async () => {
    const sent: number[][] = [];
    const b = new FrameBatcher<number>((f) => sent.push(f), {
      coalesce: true,
      maxBatchBytes: 1 << 20,
      maxBatchFrames: 3,
    });
    for (let i = 1; i <= 7; i++) b.add(i, 10);
    // Two full batches went out synchronously, without waiting for the turn to end.
    expect(sent).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(b.pending).toBe(1);
    await turn();
    expect(sent).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(b.stats).toEqual({ messages: 3, frames: 7 });
  });

  it("discard drops batched frames and the scheduled flush", async () => {
    const sent: number[][] = [];
    const b = new FrameBatcher<number>((f) => sent.push(f), { coalesce: true, maxBatchBytes: 100 });
    b.add(1, 1);
    b.discard();
    await turn();
    expect(sent).toEqual([]);
    expect(b.pending).toBe(0);
  });

  it("the mux server batches 16 replies per message by default and validates the option", () => {
    expect(resolveMuxServerOptions().maxBatchFrames).toBe(16);
    expect(resolveMuxServerOptions({ maxBatchFrames: 1 }).maxBatchFrames).toBe(1);
    expect(() => resolveMuxServerOptions({ maxBatchFrames: 0 })).toThrow(/maxBatchFrames/);
    expect(() => resolveMuxServerOptions({ maxBatchFrames: 1.5 })).toThrow(/maxBatchFrames/);
  });
});
