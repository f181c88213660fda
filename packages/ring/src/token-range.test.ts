import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_TOKEN, RING_SIZE } from "./token.js";
import { isFullRange, rangeContains, rangeSize } from "./token-range.js";

const token = fc.oneof(
  fc.bigInt({ min: 0n, max: MAX_TOKEN }),
  fc.constantFrom(0n, 1n, MAX_TOKEN - 1n, MAX_TOKEN),
  fc.bigInt({ min: 0n, max: 8n }),
);

// Model: walking clockwise from start, t is reached within `size` steps.
const distance = (from: bigint, to: bigint) => (((to - from) % RING_SIZE) + RING_SIZE) % RING_SIZE;

describe("token ranges (start exclusive, end inclusive)", () => {
  it("rangeContains agrees with the clockwise-distance model, wrap-around included", () => {
    fc.assert(
      fc.property(token, token, token, (start, end, t) => {
        const size = start === end ? RING_SIZE : distance(start, end);
        const d = distance(start, t);
        const inModel = d === 0n ? size === RING_SIZE : d <= size;
        expect(rangeContains({ start, end }, t)).toBe(inModel);
      }),
    );
  });

  it("excludes start, includes end, and start === end is the whole ring", () => {
    expect(rangeContains({ start: 10n, end: 20n }, 10n)).toBe(false);
    expect(rangeContains({ start: 10n, end: 20n }, 20n)).toBe(true);
    expect(rangeContains({ start: MAX_TOKEN - 1n, end: 1n }, MAX_TOKEN)).toBe(true);
    expect(rangeContains({ start: MAX_TOKEN - 1n, end: 1n }, 0n)).toBe(true);
    expect(rangeContains({ start: MAX_TOKEN - 1n, end: 1n }, 2n)).toBe(false);
    expect(rangeContains({ start: 5n, end: 5n }, 5n)).toBe(true);
    expect(isFullRange({ start: 5n, end: 5n })).toBe(true);
    expect(isFullRange({ start: 5n, end: 6n })).toBe(false);
  });

  it("rangeSize counts the contained tokens and complementary ranges sum to the ring", () => {
    expect(rangeSize({ start: 10n, end: 20n })).toBe(10n);
    expect(rangeSize({ start: MAX_TOKEN, end: 0n })).toBe(1n);
    expect(rangeSize({ start: 3n, end: 3n })).toBe(RING_SIZE);
    fc.assert(
      fc.property(token, token, (a, b) => {
        fc.pre(a !== b);
        expect(rangeSize({ start: a, end: b }) + rangeSize({ start: b, end: a })).toBe(RING_SIZE);
      }),
    );
  });
});
