import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ParsedCommandLine, parseCommandLine } from "./command-line.js";
import { isUsageError, type UsageError } from "./errors.js";

const parse = (argv: string[]) => parseCommandLine(argv, "9.9.9");

async function run(argv: string[]) {
  const p = await parse(argv);
  if (p.kind !== "run") throw new Error(`expected a command, got ${p.kind}`);
  return p;
}

async function usageError(argv: string[]): Promise<UsageError> {
  try {
    await parse(argv);
  } catch (e) {
    if (isUsageError(e)) return e;
    throw e;
  }
  throw new Error(`expected a usage error for ${JSON.stringify(argv)}`);
}

const DEFAULTS = { server: "localhost:8080", timeout: "5s", consistency: "quorum", json: false };

describe("parseCommandLine: commands", () => {
  it("put", async () => {
    expect(await run(["put", "user:1", "Alice"])).toEqual({
      kind: "run",
      options: DEFAULTS,
      invocation: {
        command: "put",
        key: "user:1",
        value: { kind: "text", text: "Alice" },
        context: undefined,
        showContext: false,
      },
    });
    expect((await run(["put", "k", "-"])).invocation).toMatchObject({ value: { kind: "stdin" } });
    expect((await run(["put", "k", "--value-file", "/tmp/v"])).invocation).toMatchObject({
      value: { kind: "file", path: "/tmp/v" },
    });
    expect(
      (await run(["put", "k", "v", "--context", "AQID", "--show-context"])).invocation,
    ).toMatchObject({
      context: "AQID",
      showContext: true,
    });
  });

  it("keeps keys and values as strings, exactly", async () => {
    expect((await run(["put", "007", "1e3"])).invocation).toMatchObject({
      key: "007",
      value: { kind: "text", text: "1e3" },
    });
    expect((await run(["put", "k", "-5"])).invocation).toMatchObject({ value: { text: "-5" } });
    expect((await run(["put", "k", ""])).invocation).toMatchObject({ value: { text: "" } });
    expect((await run(["put", "a b", "x\ny"])).invocation).toMatchObject({
      key: "a b",
      value: { text: "x\ny" },
    });
  });

  it("takes keys and values that start with a dash after --", async () => {
    expect((await run(["put", "--", "-key", "--json"])).invocation).toMatchObject({
      key: "-key",
      value: { text: "--json" },
    });
    expect((await run(["--json", "get", "--", "-k"])).invocation).toMatchObject({ key: "-k" });
    expect((await run(["batch", "a", "1", "--", "-b", "-2"])).invocation).toEqual({
      command: "batch",
      pairs: [
        ["a", "1"],
        ["-b", "-2"],
      ],
    });
  });

  it("get, delete, batch, status", async () => {
    expect((await run(["get", "k", "--show-context"])).invocation).toEqual({
      command: "get",
      key: "k",
      showContext: true,
    });
    expect((await run(["delete", "k", "--context=AQID"])).invocation).toEqual({
      command: "delete",
      key: "k",
      context: "AQID",
    });
    expect((await run(["batch", "a", "1", "b", "2", "c", "3"])).invocation).toEqual({
      command: "batch",
      pairs: [
        ["a", "1"],
        ["b", "2"],
        ["c", "3"],
      ],
    });
    expect((await run(["status"])).invocation).toEqual({ command: "status" });
  });

  it("repair, cleanup and decommission, with their own default deadlines", async () => {
    expect(await run(["repair"])).toEqual({
      kind: "run",
      options: { ...DEFAULTS, timeout: "5m" },
      invocation: { command: "repair", node: undefined },
    });
    expect((await run(["repair", "--node", "n2"])).invocation).toEqual({
      command: "repair",
      node: "n2",
    });
    expect(await run(["decommission", "node-4"])).toEqual({
      kind: "run",
      options: { ...DEFAULTS, timeout: "30m" },
      invocation: { command: "decommission", nodeId: "node-4" },
    });
    // A node id that looks like a number stays a string; an explicit --timeout wins.
    expect(await run(["-timeout=90s", "decommission", "007"])).toMatchObject({
      options: { timeout: "90s" },
      invocation: { nodeId: "007" },
    });
    expect((await run(["--timeout", "1s", "repair"])).options.timeout).toBe("1s");
    expect(await run(["cleanup"])).toEqual({
      kind: "run",
      // The most a node accepts (its request limit), as for repair.
      options: { ...DEFAULTS, timeout: "5m" },
      invocation: { command: "cleanup", node: undefined },
    });
    expect((await run(["cleanup", "-node=n3", "-timeout=2h"])).invocation).toEqual({
      command: "cleanup",
      node: "n3",
    });
    expect((await run(["cleanup", "--timeout", "2h"])).options.timeout).toBe("2h");
    expect((await run(["status"])).options.timeout).toBe("5s");
  });

  it("removenode: one call, so the usual 5s deadline", async () => {
    expect(await run(["removenode", "node-4"])).toEqual({
      kind: "run",
      options: DEFAULTS,
      invocation: { command: "removenode", nodeId: "node-4" },
    });
    // Trimmed; a numeric-looking id stays a string; options before or after, one dash or two.
    expect(await run(["-server=n1:9000", "removenode", " 007 ", "-json", "-timeout=2s"])).toEqual({
      kind: "run",
      options: { ...DEFAULTS, server: "n1:9000", timeout: "2s", json: true },
      invocation: { command: "removenode", nodeId: "007" },
    });
    expect((await run(["removenode", "--", "-odd-id"])).invocation).toEqual({
      command: "removenode",
      nodeId: "-odd-id",
    });
  });

  it("reads the shared options before or after the command, with one or two dashes", async () => {
    const expected = { server: "n1:9000", timeout: "2s", consistency: "all", json: true };
    const forms = [
      ["-server=n1:9000", "-consistency=all", "-timeout=2s", "-json", "get", "k"],
      ["-server", "n1:9000", "-consistency", "all", "-timeout", "2s", "get", "k", "-json"],
      ["--server=n1:9000", "--consistency=all", "--timeout=2s", "--json", "get", "k"],
      ["get", "k", "--server", "n1:9000", "--consistency", "all", "--timeout", "2s", "--json"],
    ];
    for (const argv of forms) expect((await run(argv)).options, argv.join(" ")).toEqual(expected);
  });

  it("property: single- and double-dash forms parse the same", async () => {
    const value = fc.stringMatching(/^[A-Za-z0-9:.]{1,12}$/);
    await fc.assert(
      fc.asyncProperty(
        fc.record({ server: value, timeout: value, consistency: value }),
        fc.boolean(),
        fc.boolean(),
        async (opts, json, equals) => {
          const form = (dash: string) => [
            ...Object.entries(opts).flatMap(([k, v]) =>
              equals ? [`${dash}${k}=${v}`] : [`${dash}${k}`, v],
            ),
            ...(json ? [`${dash}json`] : []),
            "get",
            "key",
          ];
          const single = await run(form("-"));
          const double = await run(form("--"));
          expect(single).toEqual(double);
          expect(single.options).toEqual({ ...opts, json });
        },
      ),
      { numRuns: 50 },
    );
  });

  it("the last of a repeated option wins", async () => {
    expect((await run(["--server", "a:1", "--server", "b:2", "status"])).options.server).toBe(
      "b:2",
    );
  });
});

describe("parseCommandLine: help and version", () => {
  it.each([["--help"], ["-h"], ["-help"]])("%s prints the overview", async (flag) => {
    const p = (await parse([flag])) as Extract<ParsedCommandLine, { kind: "output" }>;
    expect(p.kind).toBe("output");
    for (const cmd of [
      "put <key>",
      "get <key>",
      "delete <key>",
      "batch <key> <value>",
      "status",
      "repair",
      "cleanup",
      "decommission <node-id>",
      "removenode <node-id>",
    ]) {
      expect(p.text).toContain(`distkv-client ${cmd}`);
    }
    // removenode is one call: it keeps the 5s default and is not listed among the exceptions.
    expect(p.text).toContain("[default: 5s; repair 5m, cleanup 5m, decommission 30m]");
    expect(p.text).toMatch(
      /4 request rejected by the server \([^)]*removenode of a node that is\s+not dead\)/,
    );
    expect(p.text).toContain("Exit codes:");
    expect(p.text).toContain("-server=host:8080");
  });

  it.each([
    ["put"],
    ["get"],
    ["delete"],
    ["batch"],
    ["status"],
    ["repair"],
    ["cleanup"],
    ["decommission"],
    ["removenode"],
  ])("%s --help prints that command's usage", async (cmd) => {
    const p = await parse([cmd, "--help"]);
    expect(p.kind).toBe("output");
    expect((p as { text: string }).text).toMatch(new RegExp(`^distkv-client ${cmd}`));
  });

  it("cleanup --help: its usage line, what it does, and --node", async () => {
    const p = (await parse(["cleanup", "--help"])) as Extract<
      ParsedCommandLine,
      { kind: "output" }
    >;
    expect(p.text.split("\n")[0]).toBe("distkv-client cleanup [--node <node-id>]");
    expect(p.text).toMatch(/no ring places a replica of\s+there any more/);
    expect(p.text).toMatch(/refuses \(exit 4\)/);
    expect(p.text).toMatch(/--node\s+The node to clean up \(default: the node --server names\)/);
  });

  it("removenode --help: its usage line, that the node must be dead, and the new-id warning", async () => {
    const p = (await parse(["removenode", "--help"])) as Extract<
      ParsedCommandLine,
      { kind: "output" }
    >;
    expect(p.text.split("\n")[0]).toBe("distkv-client removenode <node-id>");
    // yargs wraps the description; compare it with the line breaks undone.
    const flat = p.text.replace(/\s+/g, " ");
    for (const phrase of [
      "Remove a node that died and will not come back",
      "its ranges move to the remaining nodes. Its data is not handed over",
      'run "distkv-client repair" on each remaining node',
      "Refused (exit 4) unless the answering node sees the node dead: decommission a live node instead.",
      "Removing a node that has already left succeeds and changes nothing.",
      "A replacement must join with a new node id",
      "node-id The id of the dead node to remove",
    ]) {
      expect(flat).toContain(phrase);
    }
  });

  it("--version", async () => {
    expect(await parse(["--version"])).toEqual({ kind: "output", text: "9.9.9" });
  });
});

describe("parseCommandLine: usage errors", () => {
  it.each([
    [[], "no command given", undefined],
    [["frob"], 'unknown command "frob"', undefined],
    [["pot", "k", "v"], 'unknown command "pot" (did you mean put?)', undefined],
    [["get"], "missing arguments: usage: distkv-client get <key>", "get"],
    [["put"], "missing arguments: usage: distkv-client put <key> <value>", "put"],
    [["delete"], "missing arguments: usage: distkv-client delete <key>", "delete"],
    [
      ["batch", "a"],
      "missing arguments: usage: distkv-client batch <key> <value> [<key> <value> ...]",
      "batch",
    ],
    [
      ["put", "k"],
      'missing <value> (give the value, "-" to read it from stdin, or --value-file <path>)',
      "put",
    ],
    [
      ["put", "k", "v", "--value-file", "f"],
      "give either <value> or --value-file, not both",
      "put",
    ],
    [
      ["batch", "a", "1", "b"],
      'batch takes key/value pairs, got 3 arguments: the key "b" has no value',
      "batch",
    ],
    [["get", "a", "b"], 'unexpected argument "b"', "get"],
    [["get", "a", "--bogus"], "unexpected option --bogus", "get"],
    [["get", "a", "--context", "x"], "unexpected option --context", "get"],
    [["status", "--show-context"], "unexpected option --show-context", "status"],
    [["status", "--node", "n1"], "unexpected option --node", "status"],
    [
      ["decommission"],
      "missing arguments: usage: distkv-client decommission <node-id>",
      "decommission",
    ],
    [["decommission", "a", "b"], 'unexpected argument "b"', "decommission"],
    [["removenode"], "missing arguments: usage: distkv-client removenode <node-id>", "removenode"],
    [["removenode", "a", "b"], 'unexpected argument "b"', "removenode"],
    [["removenode", "  "], "the node id must not be empty", "removenode"],
    [["removenode", "n1", "--node", "n2"], "unexpected option --node", "removenode"],
    [["repair", "--node"], "--node must name a node id", "repair"],
    [["cleanup", "--node", " "], "--node must name a node id", "cleanup"],
    [["cleanup", "n1"], 'unexpected argument "n1"', "cleanup"],
    [["get", ""], "the key must not be empty", "get"],
    [["batch", "a", "1", "", "2"], "the key must not be empty", "batch"],
    [["-bogus", "get", "a"], "unknown option -bogus", undefined],
    [["get", "a", "--", "b"], 'unexpected argument "b"', "get"],
    [["get", "a", "--", "-b"], 'unexpected argument "-b"', "get"],
  ])("%j", async (argv, message, command) => {
    const e = await usageError(argv as string[]);
    expect(e.message.startsWith(message), e.message).toBe(true);
    expect(e.command).toBe(command);
    expect(e.exitCode).toBe(2);
  });
});
