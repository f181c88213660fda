import { Consistency } from "@distkv/rpc";
import { describe, expect, it } from "vitest";
import { isUsageError } from "./errors.js";
import { parseConsistency, resolveCliOptions } from "./options.js";

function usageMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isUsageError(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error("expected a usage error");
}

describe("resolveCliOptions", () => {
  it("fills in the documented defaults and freezes the result", () => {
    const o = resolveCliOptions();
    expect(o).toEqual({
      baseUrl: "http://localhost:8080",
      timeoutMs: 5000,
      consistencyLevel: "quorum",
      consistency: Consistency.QUORUM,
      json: false,
    });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it("takes every option", () => {
    expect(
      resolveCliOptions({
        server: "https://n1:9000/",
        timeout: "250ms",
        consistency: "ALL",
        json: true,
      }),
    ).toEqual({
      baseUrl: "https://n1:9000",
      timeoutMs: 250,
      consistencyLevel: "all",
      consistency: Consistency.ALL,
      json: true,
    });
    expect(resolveCliOptions({ consistency: "one" }).consistency).toBe(Consistency.ONE);
  });

  it("names the bad option", () => {
    expect(usageMessage(() => resolveCliOptions({ server: "" }))).toContain("--server");
    expect(usageMessage(() => resolveCliOptions({ server: "ftp://x:1" }))).toContain("--server");
    expect(usageMessage(() => resolveCliOptions({ server: "host:port" }))).toContain("--server");
    expect(usageMessage(() => resolveCliOptions({ timeout: "soon" }))).toContain("--timeout");
    expect(usageMessage(() => resolveCliOptions({ consistency: "most" }))).toBe(
      'unknown consistency level "most": expected one of one, quorum, all',
    );
  });
});

describe("parseConsistency", () => {
  it.each([
    ["one", "one"],
    ["Quorum", "quorum"],
    [" ALL ", "all"],
  ])("%j -> %s", (text, level) => {
    expect(parseConsistency(text)).toBe(level);
  });

  it.each(["", "two", "majority", "1"])("rejects %j", (text) => {
    expect(usageMessage(() => parseConsistency(text))).toContain("unknown consistency level");
  });
});
