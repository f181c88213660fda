import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Admission, type AdmissionWaiter } from "./admission.js";

describe("Admission", () => {
  it("admits up to maxInFlight, queues FIFO, refuses beyond maxWaiting", () => {
    const a = new Admission({ maxInFlight: 2, maxInFlightBytes: 1000, maxWaiting: 2 });
    expect(a.tryAcquire(1)).toBe(true);
    expect(a.tryAcquire(1)).toBe(true);
    expect(a.tryAcquire(1)).toBe(false);
    const granted: string[] = [];
    const w1: AdmissionWaiter = { bytes: 1, grant: () => granted.push("w1") };
    const w2: AdmissionWaiter = { bytes: 1, grant: () => granted.push("w2") };
    expect(a.enqueue(w1)).toBe(true);
    expect(a.enqueue(w2)).toBe(true);
    expect(a.enqueue({ bytes: 1, grant: () => granted.push("w3") })).toBe(false);
    a.release(1);
    expect(granted).toEqual(["w1"]);
    a.release(1);
    expect(granted).toEqual(["w1", "w2"]);
    expect(a.inFlight).toBe(2);
    expect(a.waiting).toBe(0);
  });

  it("admits a call larger than maxInFlightBytes only when nothing else is in flight", () => {
    const a = new Admission({ maxInFlight: 10, maxInFlightBytes: 100, maxWaiting: 10 });
    expect(a.tryAcquire(60)).toBe(true);
    let big = false;
    expect(a.enqueue({ bytes: 500, grant: () => (big = true) })).toBe(true);
    expect(big).toBe(false);
    // FIFO: a small call behind the big one waits too, so the big one cannot starve.
    let small = false;
    a.enqueue({ bytes: 1, grant: () => (small = true) });
    expect(small).toBe(false);
    a.release(60);
    expect(big).toBe(true);
    expect(small).toBe(false);
    a.release(500);
    expect(small).toBe(true);
  });

  it("a removed waiter is never granted and unblocks the ones behind it", () => {
    const a = new Admission({ maxInFlight: 1, maxInFlightBytes: 100, maxWaiting: 10 });
    a.tryAcquire(50);
    let head = false;
    let next = false;
    const wHead: AdmissionWaiter = { bytes: 80, grant: () => (head = true) };
    a.enqueue(wHead);
    a.enqueue({ bytes: 10, grant: () => (next = true) });
    expect(a.remove(wHead)).toBe(true);
    a.release(50);
    expect(head).toBe(false);
    expect(next).toBe(true);
  });

  // Model check: any interleaving of acquire / release / cancel keeps the limits, grants in
  // FIFO order and loses nobody.
  it("keeps its invariants under random operation sequences", () => {
    type Op =
      | { t: "acq"; bytes: number }
      | { t: "rel"; pick: number }
      | { t: "cancel"; pick: number };
    const op = fc.oneof(
      fc.record({ t: fc.constant("acq" as const), bytes: fc.integer({ min: 1, max: 150 }) }),
      fc.record({ t: fc.constant("rel" as const), pick: fc.nat() }),
      fc.record({ t: fc.constant("cancel" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 50, max: 300 }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(op, { maxLength: 80 }),
        (maxInFlight, maxInFlightBytes, maxWaiting, ops: Op[]) => {
          const a = new Admission({ maxInFlight, maxInFlightBytes, maxWaiting });
          const held: number[] = [];
          const queue: { w: AdmissionWaiter; seq: number }[] = [];
          const grants: number[] = [];
          let seq = 0;
          for (const o of ops) {
            if (o.t === "acq") {
              if (a.tryAcquire(o.bytes)) {
                held.push(o.bytes);
                continue;
              }
              const s = seq++;
              const entry = {
                seq: s,
                w: {
                  bytes: o.bytes,
                  grant: () => {
                    grants.push(s);
                    held.push(o.bytes);
                    queue.splice(
                      queue.findIndex((q) => q.seq === s),
                      1,
                    );
                  },
                },
              };
              const before = a.waiting;
              queue.push(entry);
              if (!a.enqueue(entry.w)) {
                queue.pop();
                expect(before).toBe(maxWaiting);
              }
            } else if (o.t === "rel" && held.length > 0) {
              const [b] = held.splice(o.pick % held.length, 1);
              a.release(b as number);
            } else if (o.t === "cancel" && queue.length > 0) {
              const [q] = queue.splice(o.pick % queue.length, 1);
              expect(a.remove(q!.w)).toBe(true);
            }
            expect(a.inFlight).toBe(held.length);
            expect(a.inFlightBytes).toBe(held.reduce((x, y) => x + y, 0));
            expect(a.waiting).toBe(queue.length);
            expect(a.inFlight).toBeLessThanOrEqual(maxInFlight);
            // Over the byte limit only through a single call admitted alone.
            if (a.inFlightBytes > maxInFlightBytes) expect(a.inFlight).toBe(1);
            // Nobody waits while the head of the queue would fit.
            const head = queue[0];
            if (head !== undefined) {
              const fits =
                a.inFlight < maxInFlight &&
                (a.inFlight === 0 || a.inFlightBytes + head.w.bytes <= maxInFlightBytes);
              expect(fits).toBe(false);
            }
          }
          expect([...grants].sort((x, y) => x - y)).toEqual(grants);
        },
      ),
    );
  });
});
