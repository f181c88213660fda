/**
 * The command-line grammar (yargs) and its translation into a typed invocation. yargs only
 * parses and validates here; the commands run afterwards, outside yargs, so their async work
 * and errors never pass through yargs' own failure handling.
 */
import yargs from "yargs";
import { type ArgvSpec, normalizeArgv } from "./argv.js";
import { UsageError } from "./errors.js";
import {
  type CliOptions,
  CONSISTENCY_LEVELS,
  DEFAULT_CONSISTENCY,
  DEFAULT_SERVER,
  DEFAULT_TIMEOUT,
} from "./options.js";

export const SCRIPT_NAME = "distkv-client";

/** Where `put` takes its value from. */
export type ValueSource =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "stdin" }
  | { readonly kind: "file"; readonly path: string };

export type Invocation =
  | {
      readonly command: "put";
      readonly key: string;
      readonly value: ValueSource;
      readonly context: string | undefined;
      readonly showContext: boolean;
    }
  | { readonly command: "get"; readonly key: string; readonly showContext: boolean }
  | { readonly command: "delete"; readonly key: string; readonly context: string | undefined }
  | { readonly command: "batch"; readonly pairs: ReadonlyArray<readonly [string, string]> }
  | { readonly command: "status" }
  /** `node`: the node whose replicas to repair; undefined: the one --server names. */
  | { readonly command: "repair"; readonly node: string | undefined }
  /** `node`: the node to clean up; undefined: the one --server names. */
  | { readonly command: "cleanup"; readonly node: string | undefined }
  | { readonly command: "decommission"; readonly nodeId: string }
  | { readonly command: "removenode"; readonly nodeId: string };

export type CommandName = Invocation["command"];

export type ParsedCommandLine =
  /** `--help` or `--version`: print `text` on stdout and exit 0. */
  | { readonly kind: "output"; readonly text: string }
  | { readonly kind: "run"; readonly invocation: Invocation; readonly options: CliOptions };

/** Usage line of each command, for help and for "missing arguments" errors. */
export const COMMAND_USAGE: Readonly<Record<CommandName, string>> = {
  put: "put <key> <value>",
  get: "get <key>",
  delete: "delete <key>",
  batch: "batch <key> <value> [<key> <value> ...]",
  status: "status",
  repair: "repair [--node <node-id>]",
  cleanup: "cleanup [--node <node-id>]",
  decommission: "decommission <node-id>",
  removenode: "removenode <node-id>",
};

/**
 * `--timeout` when none is given. For most commands it is the deadline of the one request;
 * `repair` waits for a whole anti-entropy round, `cleanup` for a scan of all of a node's data,
 * and for `decommission` it bounds the whole wait until the node has left.
 */
export const COMMAND_TIMEOUTS: Readonly<Record<CommandName, string>> = {
  put: DEFAULT_TIMEOUT,
  get: DEFAULT_TIMEOUT,
  delete: DEFAULT_TIMEOUT,
  batch: DEFAULT_TIMEOUT,
  status: DEFAULT_TIMEOUT,
  repair: "5m",
  cleanup: "5m",
  decommission: "30m",
  removenode: DEFAULT_TIMEOUT,
};

/** Long options that may be written with one dash (`-server=host:port`), as the original's. */
export const ARGV_SPEC: ArgvSpec = {
  longOptions: [
    "server",
    "timeout",
    "consistency",
    "json",
    "no-json",
    "context",
    "show-context",
    "no-show-context",
    "value-file",
    "node",
    "help",
    "version",
  ],
  shortFlags: ["h"],
};

const EPILOGUE = `Options take one or two dashes: -server=host:8080, -timeout 2s and --server host:8080 are the same.
Values that start with "-" go after "--": ${SCRIPT_NAME} put -- -key -value.

Exit codes: 0 ok, 1 key not found (get), 2 usage error, 3 server unreachable, timed out,
unavailable or failed, 4 request rejected by the server (e.g. value too large, cleanup while
the ring is changing, removenode of a node that is not dead), 5 batch with failed operations or repair with failed comparisons,
70 internal error of the CLI.`;

function last(v: unknown): unknown {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

function optionalString(v: unknown): string | undefined {
  const x = last(v);
  return x === undefined ? undefined : String(x);
}

function buildParser(version: string) {
  const contextOption = {
    type: "string",
    describe: "The context printed by get (base64): the write supersedes exactly those versions",
  } as const;
  const showContext = {
    type: "boolean",
    default: false,
    describe: "Also print the causal context (base64) for a follow-up put or delete",
  } as const;
  return yargs()
    .scriptName(SCRIPT_NAME)
    .locale("en")
    .detectLocale(false)
    .parserConfiguration({
      // Keys and values are strings: "007" must stay "007".
      "parse-numbers": false,
      "parse-positional-numbers": false,
    })
    .usage(`${SCRIPT_NAME} [options] <command>\n\nTalks to a DistKV node over Connect (HTTP/2).`)
    .option("server", {
      type: "string",
      default: DEFAULT_SERVER,
      describe: "Node to talk to (host:port or http://host:port)",
    })
    .option("timeout", {
      type: "string",
      defaultDescription: `${DEFAULT_TIMEOUT}; repair ${COMMAND_TIMEOUTS.repair}, cleanup ${COMMAND_TIMEOUTS.cleanup}, decommission ${COMMAND_TIMEOUTS.decommission}`,
      describe:
        "Deadline: 500ms, 5s, 2m, 1m30s, or a bare number of seconds (repair, cleanup: of the whole run; decommission: of the whole wait)",
    })
    .option("consistency", {
      type: "string",
      default: DEFAULT_CONSISTENCY,
      describe: `Replicas that must answer: ${CONSISTENCY_LEVELS.join(", ")}`,
    })
    .option("json", {
      type: "boolean",
      default: false,
      describe: "Print JSON on stdout for scripts",
    })
    .command("put <key> [value]", 'Store a value ("-" reads it from stdin)', (y) =>
      y
        .usage(`${SCRIPT_NAME} ${COMMAND_USAGE.put}\n\nStore a value under a key.`)
        .positional("key", { type: "string", describe: "The key (UTF-8)" })
        .positional("value", {
          type: "string",
          describe: 'The value (UTF-8); "-" reads the value bytes from stdin',
        })
        .option("context", contextOption)
        .option("show-context", showContext)
        .option("value-file", {
          type: "string",
          describe: "Read the value bytes from this file instead of <value>",
        }),
    )
    .command("get <key>", "Read a key (all siblings when writes were concurrent)", (y) =>
      y
        .usage(`${SCRIPT_NAME} ${COMMAND_USAGE.get}\n\nRead a key.`)
        .positional("key", { type: "string", describe: "The key (UTF-8)" })
        .option("show-context", showContext),
    )
    .command("delete <key>", "Delete a key", (y) =>
      y
        .usage(`${SCRIPT_NAME} ${COMMAND_USAGE.delete}\n\nDelete a key (writes a tombstone).`)
        .positional("key", { type: "string", describe: "The key (UTF-8)" })
        .option("context", contextOption),
    )
    .command("batch <key> <value> [more..]", "Store several key/value pairs in one request", (y) =>
      y
        .usage(
          `${SCRIPT_NAME} ${COMMAND_USAGE.batch}\n\nStore several pairs in one request. A batch is not a transaction: each put succeeds or fails on its own.`,
        )
        .positional("key", { type: "string", describe: "First key" })
        .positional("value", { type: "string", describe: "First value" })
        .positional("more", { type: "string", describe: "Further key/value pairs" }),
    )
    .command("status", "Show cluster health and the answering node's metrics", (y) =>
      y.usage(`${SCRIPT_NAME} status\n\nShow cluster health as the answering node sees it.`),
    )
    .command(
      "repair",
      "Compare replicas and repair what differs now (anti-entropy), with progress",
      (y) =>
        y
          .usage(
            `${SCRIPT_NAME} ${COMMAND_USAGE.repair}\n\nRun an anti-entropy round now on a node: compare each of its replica groups with the other replicas (Merkle trees), repair the keys that differ both ways and purge tombstones past their grace period. Progress goes to stderr, the result to stdout. Exits 5 when a comparison failed (e.g. a replica is down).`,
          )
          .option("node", {
            type: "string",
            describe: "The node whose replicas to repair (default: the node --server names)",
          }),
    )
    .command(
      "cleanup",
      "Delete the data a node keeps for ranges it no longer replicates (after a join), with progress",
      (y) =>
        y
          .usage(
            `${SCRIPT_NAME} ${COMMAND_USAGE.cleanup}\n\nDelete, on a node, every stored key that no ring places a replica of there any more (the ranges a node that joined took over), like Cassandra's nodetool cleanup. Run it on each node a join displaced. The node refuses (exit 4) while a node is joining or leaving, until the ring has been stable for a while, or when a cleanup is already running there. Progress goes to stderr, the result to stdout.`,
          )
          .option("node", {
            type: "string",
            describe: "The node to clean up (default: the node --server names)",
          }),
    )
    .command(
      "decommission <node-id>",
      "Hand a node's data to the others, remove it from the ring, and wait until it has left",
      (y) =>
        y
          .usage(
            `${SCRIPT_NAME} ${COMMAND_USAGE.decommission}\n\nAsk a node to leave the cluster: it streams its ranges to their new owners, turns left and exits. Waits (up to --timeout, default ${COMMAND_TIMEOUTS.decommission}) until the cluster sees it as left, showing the hand-over's progress on stderr.`,
          )
          .positional("node-id", { type: "string", describe: "The id of the node to remove" }),
    )
    .command(
      "removenode <node-id>",
      "Remove a dead node for good, without its data (repair then copies it from the other replicas)",
      (y) =>
        y
          .usage(
            `${SCRIPT_NAME} ${COMMAND_USAGE.removenode}\n\nRemove a node that died and will not come back, like Cassandra's nodetool removenode: it is marked left (gossip tells every node) and its ranges move to the remaining nodes. Its data is not handed over: run "${SCRIPT_NAME} repair" on each remaining node to copy it from the surviving replicas now, or let anti-entropy do it on its next round. Refused (exit 4) unless the answering node sees the node dead: decommission a live node instead. Removing a node that has already left succeeds and changes nothing. A replacement must join with a new node id: restarting the removed node with its old data directory would bring it back as a member.`,
          )
          .positional("node-id", { type: "string", describe: "The id of the dead node to remove" }),
    )
    .demandCommand(1, "no command given")
    .strict()
    .recommendCommands()
    .help("help")
    .alias("h", "help")
    .version(version)
    .epilogue(EPILOGUE)
    .wrap(100);
}

const COMMANDS = new Set<string>(Object.keys(COMMAND_USAGE));
const KEYED = new Set<CommandName>(["put", "get", "delete", "batch"]);

/** Parses the user's arguments (without `node` and the script). Throws UsageError. */
export async function parseCommandLine(
  argv: readonly string[],
  version: string,
): Promise<ParsedCommandLine> {
  const normalized = normalizeArgv(argv, ARGV_SPEC);
  const parser = buildParser(version);
  const { error, parsed, output } = await new Promise<{
    error: Error | undefined;
    parsed: Record<string, unknown>;
    output: string;
  }>((resolve, reject) => {
    parser
      .parseAsync([...normalized.args], {}, (err, args, out) => {
        resolve({
          error: err ?? undefined,
          parsed: args as Record<string, unknown>,
          output: out,
        });
      })
      .catch(reject);
  });
  const first = Array.isArray(parsed._) ? parsed._[0] : undefined;
  const command =
    typeof first === "string" && COMMANDS.has(first) ? (first as CommandName) : undefined;
  if (error !== undefined) {
    throw translateYargsError(error, command, first, output, parsed, normalized.restoreText);
  }
  if (output !== "") return { kind: "output", text: output };
  if (command === undefined) throw new UsageError("no command given");
  const timeout = optionalString(parsed.timeout);
  const options: CliOptions = {
    server: String(last(parsed.server)),
    timeout: timeout ?? COMMAND_TIMEOUTS[command],
    consistency: String(last(parsed.consistency)),
    json: last(parsed.json) === true,
  };
  const r = normalized.restore;
  const key = r(String(parsed.key ?? ""));
  if (KEYED.has(command) && key === "") {
    throw new UsageError("the key must not be empty", command);
  }
  const invocation = toInvocation(command, key, parsed, r);
  return { kind: "run", invocation, options };
}

function toInvocation(
  command: CommandName,
  key: string,
  parsed: Record<string, unknown>,
  r: (s: string) => string,
): Invocation {
  const showContext = last(parsed["show-context"]) === true;
  const context = optionalString(parsed.context);
  switch (command) {
    case "put": {
      const valueFile = optionalString(parsed["value-file"]);
      const text = parsed.value === undefined ? undefined : r(String(parsed.value));
      let value: ValueSource;
      if (valueFile !== undefined) {
        if (text !== undefined) {
          throw new UsageError("give either <value> or --value-file, not both", command);
        }
        value = { kind: "file", path: valueFile };
      } else if (text === undefined) {
        throw new UsageError(
          'missing <value> (give the value, "-" to read it from stdin, or --value-file <path>)',
          command,
        );
      } else {
        value = text === "-" ? { kind: "stdin" } : { kind: "text", text };
      }
      return { command, key, value, context, showContext };
    }
    case "get":
      return { command, key, showContext };
    case "delete":
      return { command, key, context };
    case "batch": {
      const more = (Array.isArray(parsed.more) ? parsed.more : []).map((x) => r(String(x)));
      if (more.length % 2 !== 0) {
        throw new UsageError(
          `batch takes key/value pairs, got ${more.length + 2} arguments: the key ${JSON.stringify(more[more.length - 1])} has no value`,
          command,
        );
      }
      const pairs: Array<readonly [string, string]> = [[key, r(String(parsed.value ?? ""))]];
      for (let i = 0; i < more.length; i += 2) {
        const k = more[i] ?? "";
        if (k === "") throw new UsageError("the key must not be empty", command);
        pairs.push([k, more[i + 1] ?? ""]);
      }
      return { command, pairs };
    }
    case "status":
      return { command };
    case "repair":
    case "cleanup": {
      const node = optionalString(parsed.node);
      if (node !== undefined && r(node).trim() === "") {
        throw new UsageError("--node must name a node id", command);
      }
      return { command, node: node === undefined ? undefined : r(node) };
    }
    case "decommission":
    case "removenode": {
      const nodeId = r(String(parsed["node-id"] ?? "")).trim();
      if (nodeId === "") throw new UsageError("the node id must not be empty", command);
      return { command, nodeId };
    }
  }
}

function translateYargsError(
  error: Error,
  command: CommandName | undefined,
  first: unknown,
  output: string,
  parsed: Record<string, unknown>,
  restoreText: (s: string) => string,
): UsageError {
  const message = restoreText(error.message);
  if (command === undefined && first !== undefined) {
    const suggestion = /Did you mean (\S+)\?/.exec(output)?.[1];
    const hint = suggestion === undefined ? "" : ` (did you mean ${suggestion}?)`;
    return new UsageError(
      `unknown command ${JSON.stringify(restoreText(String(first)))}${hint}`,
      undefined,
      { cause: error },
    );
  }
  if (message.startsWith("Not enough non-option arguments") && command !== undefined) {
    return new UsageError(
      `missing arguments: usage: ${SCRIPT_NAME} ${COMMAND_USAGE[command]}`,
      command,
      { cause: error },
    );
  }
  const unknown = /^Unknown arguments?: (.*)$/s.exec(message);
  if (unknown !== null) {
    // yargs lists extra words (left in `_`) and unknown options alike.
    const extra = new Set(
      (Array.isArray(parsed._) ? parsed._ : []).map((x) => restoreText(String(x))),
    );
    const names = (unknown[1] ?? "").split(", ");
    const described = names.map((n) =>
      extra.has(n) ? `argument ${JSON.stringify(n)}` : `option ${n.length === 1 ? "-" : "--"}${n}`,
    );
    return new UsageError(`unexpected ${described.join(", ")}`, command, { cause: error });
  }
  // yargs' own wording otherwise (e.g. "Not enough arguments following: context").
  const lowered = message.charAt(0).toLowerCase() + message.slice(1);
  return new UsageError(lowered, command, { cause: error });
}
