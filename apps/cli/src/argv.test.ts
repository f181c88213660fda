import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeArgv } from "./argv.js";
import { ARGV_SPEC } from "./command-line.js";
import { isUsageError } from "./errors.js";

const norm = (argv: string[]) => normalizeArgv(argv, ARGV_SPEC);

describe("normalizeArgv", () => {
  it.each([
    // single-dash long options, as the original documents them
    [
      ["-server=localhost:8080", "get", "k"],
      ["--server=localhost:8080", "get", "k"],
    ],
    [
      ["-consistency=all", "put", "k", "v"],
      ["--consistency=all", "put", "k", "v"],
    ],
    [
      ["-timeout", "2s", "status"],
      ["--timeout", "2s", "status"],
    ],
    [
      ["get", "k", "-json"],
      ["get", "k", "--json"],
    ],
    [
      ["get", "k", "-show-context"],
      ["get", "k", "--show-context"],
    ],
    [
      ["put", "k", "-value-file=/tmp/x"],
      ["put", "k", "--value-file=/tmp/x"],
    ],
    [
      ["-no-json", "status"],
      ["--no-json", "status"],
    ],
    [["-help"], ["--help"]],
    [["-version"], ["--version"]],
    // `=` values keep everything after the first `=`, newlines included
    [
      ["put", "k", "-context=a=b\nc"],
      ["put", "k", "--context=a=b\nc"],
    ],
    // double-dash forms, short flags, stdin, negative numbers and words pass through
    [
      ["--server", "h:1", "get", "k"],
      ["--server", "h:1", "get", "k"],
    ],
    [["--bogus"], ["--bogus"]],
    [["-h"], ["-h"]],
    [
      ["put", "-h"],
      ["put", "-h"],
    ],
    [
      ["put", "k", "-5"],
      ["put", "k", "-5"],
    ],
    [
      ["put", "k", "-1.5"],
      ["put", "k", "-1.5"],
    ],
    [
      ["put", "server", "json"],
      ["put", "server", "json"],
    ],
  ])("%j -> %j", (input, expected) => {
    expect(norm(input).args).toEqual(expected);
  });

  it.each([["-bogus"], ["-x"], ["-serverx=1"], ["-Server=a"], ["-hx"]])(
    "rejects the unknown single-dash option %s with a usage error",
    (token) => {
      let caught: unknown;
      try {
        norm(["get", "k", token]);
      } catch (e) {
        caught = e;
      }
      expect(isUsageError(caught)).toBe(true);
      expect((caught as Error).message).toContain(`unknown option ${token.split("=")[0]}`);
    },
  );

  it("protects a lone - (stdin) and restores it", () => {
    const n = norm(["put", "k", "-"]);
    expect(n.args[2]).not.toBe("-");
    expect(n.args.map(n.restore)).toEqual(["put", "k", "-"]);
  });

  it("protects arguments after -- that start with a dash, and restores them", () => {
    const n = norm(["put", "--", "-key", "--json", "plain", "--"]);
    expect(n.args).toHaveLength(5);
    expect(n.args[0]).toBe("put");
    expect(n.args[3]).toBe("plain");
    for (const a of n.args.slice(1)) expect(a.startsWith("-")).toBe(false);
    expect(n.args.map(n.restore)).toEqual(["put", "-key", "--json", "plain", "--"]);
    expect(n.restoreText(`Unknown argument: ${n.args[4]}`)).toBe("Unknown argument: --");
    // single-dash rewriting stops at --
    expect(norm(["get", "--", "-server"]).args.map(norm(["get", "--", "-server"]).restore)).toEqual(
      ["get", "-server"],
    );
  });

  it("property: without -- every known long option written with one dash gains a dash", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ARGV_SPEC.longOptions),
        fc.option(fc.string(), { nil: undefined }),
        (name, value) => {
          const token = value === undefined ? `-${name}` : `-${name}=${value}`;
          expect(norm([token]).args).toEqual([`-${token}`]);
        },
      ),
    );
  });

  it("property: words, --options and everything after -- survive a normalise/restore round trip", () => {
    const word = fc.string().filter((s) => !s.startsWith("-"));
    fc.assert(
      fc.property(fc.array(word), fc.array(fc.string()), (head, tail) => {
        const n = norm([...head, "--", ...tail]);
        expect(n.args.map(n.restore)).toEqual([...head, ...tail]);
        // nothing after -- can look like an option to yargs
        for (const a of n.args.slice(head.length)) expect(a.startsWith("-")).toBe(false);
        // and normalising is idempotent on what it produced (no further rewriting)
        expect(norm([...n.args]).args).toEqual(n.args);
      }),
    );
  });
});
