import { describe, expect, it } from "vitest";
import { Awareness } from "./awareness.js";

describe("Awareness", () => {
  it("stays within [0, max - 1] and scales timeouts by score + 1", () => {
    const a = new Awareness(8);
    expect(a.score).toBe(0);
    expect(a.scale(500)).toBe(500);
    a.applyDelta(-3);
    expect(a.score).toBe(0);
    a.applyDelta(3);
    expect(a.score).toBe(3);
    expect(a.scale(500)).toBe(2000);
    a.applyDelta(100);
    expect(a.score).toBe(7);
    expect(a.scale(1000)).toBe(8000);
    a.applyDelta(-1);
    expect(a.score).toBe(6);
  });

  it("a maximum of 1 disables scaling", () => {
    const a = new Awareness(1);
    a.applyDelta(5);
    expect(a.score).toBe(0);
    expect(a.scale(500)).toBe(500);
  });
});
