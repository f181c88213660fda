#!/usr/bin/env node
/**
 * The distkv-client executable: binds runCli to the process. Output is flushed by letting the
 * process end on its own (exitCode, no process.exit()).
 */
import { ExitCode } from "./errors.js";
import { runCli } from "./run.js";

let finished = false;

// connect-node can emit an 'error' on an HTTP/2 session that already failed the call after the
// client closed it (seen with an HTTP/1-only server on the port). The call's failure has been
// reported by then; the late duplicate must not turn into a crash with a stack trace. Anything
// else unexpected is reported in one line as an internal error.
process.on("uncaughtException", (e: Error & { code?: unknown }) => {
  // connect-node destroys an idle session with this error, unlistened, when the server goes
  // away (a decommissioned node exiting while the CLI polls it): the poll itself fails on its
  // own and is handled there.
  if (/received GOAWAY without any open streams/.test(e.message)) return;
  if (typeof e.code === "string" && e.code.startsWith("ERR_HTTP2_")) {
    if (finished) return;
    process.stderr.write(`distkv-client: HTTP/2 connection failed: ${e.message}\n`);
    process.exitCode = ExitCode.Unavailable;
    return;
  }
  process.stderr.write(`distkv-client: internal error: ${e.message}\n`);
  process.exit(ExitCode.Internal);
});

// `distkv-client get k | head -c1` closes the pipe early; that is not an error worth a trace.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? ExitCode.Ok);
});

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
});
finished = true;
process.exitCode = code;
