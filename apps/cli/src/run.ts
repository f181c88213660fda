/**
 * The whole CLI as a function: arguments in, output written to the injected streams, exit code
 * out. main.ts binds it to the process; tests call it directly.
 */
import { readFileSync } from "node:fs";
import { type Invocation, parseCommandLine, SCRIPT_NAME } from "./command-line.js";
import { runBatch } from "./commands/batch.js";
import { runCleanup } from "./commands/cleanup.js";
import { runDecommission } from "./commands/decommission.js";
import { runDelete } from "./commands/delete.js";
import { runGet } from "./commands/get.js";
import { type InputStream, runPut } from "./commands/put.js";
import { runRemoveNode } from "./commands/removenode.js";
import { runRepair } from "./commands/repair.js";
import { runStatus } from "./commands/status.js";
import { ExitCode, isCliError, isUsageError } from "./errors.js";
import {
  type ClientFactory,
  type CommandContext,
  defaultClientFactory,
  defaultSleep,
  type OutputStream,
} from "./io.js";
import { resolveCliOptions } from "./options.js";

export interface CliDeps {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Read when the value is `-`. */
  stdin?: InputStream;
  /**
   * Creates the client each command uses.
   * @default the real Connect client over HTTP/2 (createDistKVClient)
   */
  createClient?: ClientFactory;
  /**
   * Wall clock, ms since the epoch.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Waits between polls (decommission); tests pass one that advances a fake clock.
   * @default a setTimeout-based wait
   */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Printed by --version.
   * @default the version in this package's package.json
   */
  version?: string;
}

/** This package's version, read at run time so src/ and dist/ agree. */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

/** Runs one command line (without `node` and the script name); resolves to the exit code. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<ExitCode> {
  try {
    const parsed = await parseCommandLine(argv, deps.version ?? packageVersion());
    if (parsed.kind === "output") {
      deps.stdout.write(`${parsed.text}\n`);
      return ExitCode.Ok;
    }
    const ctx: CommandContext = {
      options: resolveCliOptions(parsed.options),
      createClient: deps.createClient ?? defaultClientFactory,
      stdout: deps.stdout,
      stderr: deps.stderr,
      now: deps.now ?? Date.now,
      sleep: deps.sleep ?? defaultSleep,
    };
    return await dispatch(ctx, parsed.invocation, deps.stdin);
  } catch (e) {
    return report(e, deps.stderr);
  }
}

function dispatch(
  ctx: CommandContext,
  inv: Invocation,
  stdin: InputStream | undefined,
): Promise<ExitCode> {
  switch (inv.command) {
    case "put":
      return runPut(ctx, inv, stdin);
    case "get":
      return runGet(ctx, inv);
    case "delete":
      return runDelete(ctx, inv);
    case "batch":
      return runBatch(ctx, inv);
    case "status":
      return runStatus(ctx);
    case "repair":
      return runRepair(ctx, inv);
    case "cleanup":
      return runCleanup(ctx, inv);
    case "decommission":
      return runDecommission(ctx, inv);
    case "removenode":
      return runRemoveNode(ctx, inv);
  }
}

/** One line on stderr (two for usage errors), never a stack trace. */
function report(e: unknown, stderr: OutputStream): ExitCode {
  if (isCliError(e)) {
    stderr.write(`${SCRIPT_NAME}: ${e.message}\n`);
    if (isUsageError(e)) {
      const where = e.command === undefined ? "" : ` ${e.command}`;
      stderr.write(`Run '${SCRIPT_NAME}${where} --help' for usage.\n`);
    }
    return e.exitCode;
  }
  const message = e instanceof Error ? e.message : String(e);
  stderr.write(`${SCRIPT_NAME}: internal error: ${message}\n`);
  return ExitCode.Internal;
}
