import { describe, expect, it } from "vitest";
import { ConfigError, resolveConfig } from "./config.js";

const base = { nodeId: "n1", dataDir: "/nonexistent/distkv-config-test" };

describe("resolveConfig: tombstone GC and hint expiry", () => {
  it("purges tombstones after 1 day and expires hints after 3 hours by default", () => {
    const c = resolveConfig(base);
    expect({ grace: c.tombstoneGraceMs, hint: c.hintMaxAgeMs }).toEqual({
      grace: 86_400_000,
      hint: 10_800_000,
    });
  });

  it("caps the default hint age at half a shorter grace period", () => {
    const c = resolveConfig({ ...base, tombstoneGraceMs: 3_600_000 });
    expect(c.hintMaxAgeMs).toBe(1_800_000);
  });

  it("accepts any hint age with GC off, and refuses one at or above the grace period", () => {
    expect(resolveConfig({ ...base, tombstoneGraceMs: 0, hintMaxAgeMs: 0 }).hintMaxAgeMs).toBe(0);
    expect(() => resolveConfig({ ...base, tombstoneGraceMs: 1000, hintMaxAgeMs: 1000 })).toThrow(
      ConfigError,
    );
    expect(resolveConfig({ ...base, tombstoneGraceMs: 1000, hintMaxAgeMs: 999 }).hintMaxAgeMs).toBe(
      999,
    );
  });
});
