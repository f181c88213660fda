import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, MAX_DURATION_MS, parseDuration } from "./duration.js";
import { isInvalidDurationError, isUsageError } from "./errors.js";

describe("parseDuration", () => {
  it.each([
    ["5s", 5000],
    ["500ms", 500],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["1m30s", 90_000],
    ["1h2m3s4ms", 3_723_004],
    ["1.5s", 1500],
    [".5s", 500],
    ["0.25", 250],
    ["5", 5000],
    ["30", 30_000],
    ["  2s ", 2000],
    ["1.", 1000],
    ["0.1ms", 1], // rounds up: a positive duration never becomes 0
    ["1.0001s", 1001],
    ["2147483647ms", MAX_DURATION_MS],
  ])("%s = %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    "",
    " ",
    "s",
    "ms",
    "5x",
    "5 s",
    "5S",
    "-5s",
    "-5",
    "1e3",
    "5s5",
    "1..5s",
    "0",
    "0s",
    "0ms",
    "2147483648ms",
    "597h",
    "Infinity",
    "NaN",
    "5sec",
  ])("rejects %j", (text) => {
    let caught: unknown;
    try {
      parseDuration(text, "--timeout");
    } catch (e) {
      caught = e;
    }
    expect(isInvalidDurationError(caught)).toBe(true);
    expect(isUsageError(caught)).toBe(true);
    expect((caught as Error).message).toContain("--timeout");
  });

  it("property: a bare number means seconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2_000_000 }), (n) => {
        expect(parseDuration(String(n))).toBe(n * 1000);
      }),
    );
  });

  it("property: components add up", () => {
    fc.assert(
      fc.property(fc.nat(100), fc.nat(100), fc.nat(100), fc.nat(1000), (h, m, s, ms) => {
        fc.pre(h + m + s + ms > 0);
        expect(parseDuration(`${h}h${m}m${s}s${ms}ms`)).toBe(
          h * 3_600_000 + m * 60_000 + s * 1000 + ms,
        );
      }),
    );
  });
});

describe("formatDuration", () => {
  it.each([
    [5000, "5s"],
    [500, "500ms"],
    [120_000, "2m"],
    [90_000, "1m30s"],
    [3_723_004, "1h2m3s4ms"],
  ])("%d ms = %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("property: parseDuration(formatDuration(ms)) === ms", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_DURATION_MS }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });
});
