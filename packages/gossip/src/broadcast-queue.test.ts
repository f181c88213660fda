import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BroadcastQueue } from "./broadcast-queue.js";

const b = (n: number, size = 10): Uint8Array => new Uint8Array(size).fill(n);

describe("BroadcastQueue", () => {
  it("sends each update at most limit times, then drops it and reports it sent", () => {
    const q = new BroadcastQueue(() => 3);
    const done: boolean[] = [];
    q.enqueue("a", b(1), (sent) => done.push(sent));
    for (let i = 0; i < 3; i++) expect(q.take(1000)).toEqual([b(1)]);
    expect(q.take(1000)).toEqual([]);
    expect(q.size).toBe(0);
    expect(done).toEqual([true]);
  });

  it("a weight multiplies the limit of one update", () => {
    const q = new BroadcastQueue(() => 2);
    q.enqueue("news", b(1), undefined, 3);
    q.enqueue("plain", b(2));
    const counts = { news: 0, plain: 0 };
    for (let i = 0; i < 10; i++) {
      for (const x of q.take(1000)) counts[x[0] === 1 ? "news" : "plain"]++;
    }
    expect(counts).toEqual({ news: 6, plain: 2 });
  });

  it("prefers the least transmitted, then the newest", () => {
    const q = new BroadcastQueue(() => 10);
    q.enqueue("a", b(1));
    q.take(1000); // a: 1
    q.enqueue("b", b(2));
    q.enqueue("c", b(3));
    // b and c have 0 transmits; c is newer.
    expect(q.take(25)).toEqual([b(3), b(2)]);
    // All at 1 transmit now: newest first.
    expect(q.take(1000)).toEqual([b(3), b(2), b(1)]);
  });

  it("a newer update about the same member replaces the queued one", () => {
    const q = new BroadcastQueue(() => 5);
    const done: string[] = [];
    q.enqueue("a", b(1), (sent) => done.push(`old ${sent}`));
    q.take(1000);
    q.enqueue("a", b(9), (sent) => done.push(`new ${sent}`));
    expect(done).toEqual(["old false"]);
    expect(q.size).toBe(1);
    expect(q.take(1000)).toEqual([b(9)]);
  });

  it("fills the byte budget, skipping what does not fit", () => {
    const q = new BroadcastQueue(() => 5);
    q.enqueue("big", b(1, 50));
    q.enqueue("small", b(2, 10));
    q.enqueue("mid", b(3, 30));
    expect(q.take(45)).toEqual([b(3, 30), b(2, 10)]);
    expect(q.take(5)).toEqual([]);
  });

  it("clear reports everything unsent", () => {
    const q = new BroadcastQueue(() => 5);
    const done: boolean[] = [];
    q.enqueue("a", b(1), (s) => done.push(s));
    q.enqueue("b", b(2), (s) => done.push(s));
    q.clear();
    expect(done).toEqual([false, false]);
    expect(q.size).toBe(0);
  });

  it("never exceeds the limit per update nor the budget per take (model)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant("enqueue" as const),
              key: fc.constantFrom("a", "b", "c", "d"),
              size: fc.integer({ min: 1, max: 40 }),
            }),
            fc.record({
              op: fc.constant("take" as const),
              budget: fc.integer({ min: 0, max: 100 }),
            }),
          ),
        ),
        (limit, ops) => {
          const q = new BroadcastQueue(() => limit);
          const sends = new Map<Uint8Array, number>();
          for (const o of ops) {
            if (o.op === "enqueue") {
              const item = new Uint8Array(o.size);
              sends.set(item, 0);
              q.enqueue(o.key, item);
            } else {
              const out = q.take(o.budget);
              expect(out.reduce((a, x) => a + x.length, 0)).toBeLessThanOrEqual(o.budget);
              for (const x of out) sends.set(x, (sends.get(x) ?? 0) + 1);
            }
          }
          for (const n of sends.values()) expect(n).toBeLessThanOrEqual(limit);
          expect(q.size).toBeLessThanOrEqual(4);
        },
      ),
    );
  });
});
