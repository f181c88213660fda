import { describe, expect, it } from "vitest";
import { isInvalidRingOptionsError, isRingError } from "./errors.js";
import {
  DEFAULT_VIRTUAL_NODES,
  MAX_VIRTUAL_NODES,
  type RingOptions,
  resolveRingOptions,
} from "./options.js";

describe("resolveRingOptions", () => {
  it("fills in defaults and freezes the result", () => {
    const o = resolveRingOptions();
    expect(o).toEqual({ virtualNodes: DEFAULT_VIRTUAL_NODES });
    expect(DEFAULT_VIRTUAL_NODES).toBe(150);
    expect(Object.isFrozen(o)).toBe(true);
    expect(resolveRingOptions({}).virtualNodes).toBe(150);
    expect(resolveRingOptions({ virtualNodes: 1 }).virtualNodes).toBe(1);
    expect(resolveRingOptions({ virtualNodes: MAX_VIRTUAL_NODES }).virtualNodes).toBe(4096);
  });

  it("rejects bad values with an error naming the field", () => {
    const bad: unknown[] = [0, -1, 1.5, Number.NaN, Infinity, MAX_VIRTUAL_NODES + 1, "150", 150n];
    for (const virtualNodes of bad) {
      let caught: unknown;
      try {
        resolveRingOptions({ virtualNodes } as RingOptions);
      } catch (e) {
        caught = e;
      }
      expect(isInvalidRingOptionsError(caught), String(virtualNodes)).toBe(true);
      expect(isRingError(caught)).toBe(true);
      expect((caught as Error).message).toContain("virtualNodes");
    }
  });

  it("rejects non-objects and unknown options (a typo must not silently use the default)", () => {
    for (const bad of [null, 5, "x", []]) {
      expect(() => resolveRingOptions(bad as RingOptions)).toThrow(
        expect.toSatisfy(isInvalidRingOptionsError),
      );
    }
    expect(() => resolveRingOptions({ vnodes: 10 } as RingOptions)).toThrow(/unknown ring option/);
  });
});
