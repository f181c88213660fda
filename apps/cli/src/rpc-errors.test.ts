import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  ExitCode,
  isRequestRejectedError,
  isRequestTimeoutError,
  isServerFailedError,
  isServerUnreachableError,
  UsageError,
} from "./errors.js";
import { toCliError } from "./rpc-errors.js";

const target = { address: "http://localhost:8080", timeoutMs: 2000 };

function sysError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe("toCliError", () => {
  it.each([
    ["ECONNREFUSED", "connection refused"],
    ["ENOTFOUND", "host not found"],
    ["ECONNRESET", "connection reset by peer"],
    ["EHOSTUNREACH", "host unreachable"],
  ])("names the address for a socket failure (%s)", (code, reason) => {
    const err = new ConnectError(
      `connect ${code}`,
      Code.Unavailable,
      undefined,
      undefined,
      sysError(code, "x"),
    );
    const e = toCliError(err, target);
    expect(isServerUnreachableError(e)).toBe(true);
    expect(e.message).toBe(`cannot reach DistKV at http://localhost:8080: ${reason}`);
    expect(e.exitCode).toBe(ExitCode.Unavailable);
    expect(e.cause).toBe(err);
  });

  it("explains an HTTP/2 protocol failure (not a DistKV node)", () => {
    const err = new ConnectError(
      "Protocol error",
      Code.Internal,
      undefined,
      undefined,
      sysError("ERR_HTTP2_ERROR", "Protocol error"),
    );
    const e = toCliError(err, target);
    expect(isServerUnreachableError(e)).toBe(true);
    expect(e.message).toContain(
      "cannot reach DistKV at http://localhost:8080: HTTP/2 protocol error (is a DistKV node listening there?",
    );
  });

  it("reports the deadline it used, plus the server's reason when there is one", () => {
    const client = toCliError(
      new ConnectError("the operation timed out", Code.DeadlineExceeded),
      target,
    );
    expect(isRequestTimeoutError(client)).toBe(true);
    expect(client.message).toBe(
      "no answer from DistKV at http://localhost:8080 within 2s (deadline exceeded)",
    );
    const server = toCliError(
      new ConnectError("only 1 of 2 replicas answered", Code.DeadlineExceeded),
      target,
    );
    expect(server.message).toBe(
      "no answer from DistKV at http://localhost:8080 within 2s (deadline exceeded): only 1 of 2 replicas answered",
    );
  });

  it.each([
    [Code.InvalidArgument, "invalid request: boom", ExitCode.Rejected],
    [Code.FailedPrecondition, "request refused: boom", ExitCode.Rejected],
    [Code.OutOfRange, "out of range: boom", ExitCode.Rejected],
    [Code.PermissionDenied, "permission denied: boom", ExitCode.Rejected],
    [Code.Unauthenticated, "not authenticated: boom", ExitCode.Rejected],
    [Code.NotFound, "not_found: boom", ExitCode.Rejected],
    [Code.AlreadyExists, "already_exists: boom", ExitCode.Rejected],
    [
      Code.Unimplemented,
      "DistKV at http://localhost:8080 does not support this request (unimplemented): boom",
      ExitCode.Rejected,
    ],
    [
      Code.Unavailable,
      "DistKV at http://localhost:8080 is unavailable: boom",
      ExitCode.Unavailable,
    ],
    [
      Code.ResourceExhausted,
      "DistKV at http://localhost:8080 is overloaded (resource exhausted): boom",
      ExitCode.Unavailable,
    ],
    [
      Code.Aborted,
      "request aborted by DistKV at http://localhost:8080: boom",
      ExitCode.Unavailable,
    ],
    [Code.Canceled, "request canceled: boom", ExitCode.Unavailable],
    [
      Code.Internal,
      "DistKV at http://localhost:8080 failed (internal): boom",
      ExitCode.Unavailable,
    ],
    [Code.Unknown, "DistKV at http://localhost:8080 failed (unknown): boom", ExitCode.Unavailable],
    [
      Code.DataLoss,
      "DistKV at http://localhost:8080 failed (data_loss): boom",
      ExitCode.Unavailable,
    ],
  ])("maps code %s to a one-line message", (code, message, exit) => {
    const e = toCliError(new ConnectError("boom", code), target);
    expect(e.message).toBe(message);
    expect(e.exitCode).toBe(exit);
    expect(isRequestRejectedError(e) || isServerFailedError(e)).toBe(true);
    expect(e.message).not.toContain("[");
  });

  it("passes CLI errors through unchanged", () => {
    const u = new UsageError("bad");
    expect(toCliError(u, target)).toBe(u);
  });
});
