import { describe, expect, it } from "vitest";
import {
  ExitCode,
  InvalidDurationError,
  isCliError,
  isInvalidDurationError,
  isServerUnreachableError,
  isUsageError,
  ServerUnreachableError,
  UsageError,
} from "./errors.js";

describe("error names", () => {
  it("isXError checks the fixed name, not the prototype", () => {
    const e = new ServerUnreachableError("http://x:1", "connection refused");
    expect(e.name).toBe("ServerUnreachableError");
    expect(isCliError(e)).toBe(true);
    expect(isServerUnreachableError({ name: "ServerUnreachableError" })).toBe(true);
    expect(isUsageError(e)).toBe(false);
    expect(isCliError(new Error("x"))).toBe(false);
    expect(isCliError(null)).toBe(false);
  });

  it("usage errors, duration errors included, exit 2", () => {
    const d = new InvalidDurationError("bad --timeout");
    expect(isInvalidDurationError(d)).toBe(true);
    expect(isUsageError(d)).toBe(true);
    expect(d.exitCode).toBe(ExitCode.Usage);
    expect(new UsageError("x", "put").command).toBe("put");
  });
});
