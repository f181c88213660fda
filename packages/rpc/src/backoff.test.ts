import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Backoff, resolveBackoffOptions } from "./backoff.js";

describe("Backoff", () => {
  it("grows by the multiplier up to the cap without jitter, and resets", () => {
    const b = new Backoff(
      resolveBackoffOptions({ initialMs: 10, maxMs: 100, multiplier: 2, jitter: 0 }),
    );
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([
      10, 20, 40, 80, 100, 100,
    ]);
    expect(b.attempts).toBe(6);
    b.reset();
    expect(b.next()).toBe(10);
  });

  it("keeps every jittered delay within [base*(1-j), min(max, base*(1+j))]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 0.999999, noNaN: true }), {
          minLength: 1,
          maxLength: 20,
        }),
        (initialMs, factor, jitter, randoms) => {
          const maxMs = initialMs * factor;
          const opts = resolveBackoffOptions({ initialMs, maxMs, multiplier: 2, jitter });
          let k = 0;
          const b = new Backoff(opts, () => randoms[k++ % randoms.length] as number);
          for (let i = 0; i < randoms.length; i++) {
            const base = Math.min(maxMs, initialMs * 2 ** i);
            const d = b.next();
            expect(d).toBeGreaterThanOrEqual(Math.floor(base * (1 - jitter)) - 1);
            expect(d).toBeLessThanOrEqual(Math.min(maxMs, Math.ceil(base * (1 + jitter)) + 1));
          }
        },
      ),
    );
  });

  it("rejects nonsense options", () => {
    expect(() => resolveBackoffOptions({ initialMs: -1 })).toThrow(RangeError);
    expect(() => resolveBackoffOptions({ initialMs: 100, maxMs: 10 })).toThrow(RangeError);
    expect(() => resolveBackoffOptions({ multiplier: 0.5 })).toThrow(RangeError);
    expect(() => resolveBackoffOptions({ jitter: 1 })).toThrow(RangeError);
  });
});
