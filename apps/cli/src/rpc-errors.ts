/**
 * The RPC edge: translates what a Connect call threw (a ConnectError from the server, or a
 * transport failure wrapped by connect-node) into a CliError with a one-line message that
 * names the address tried and the exit code scripts can test.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { formatDuration } from "./duration.js";
import {
  type CliError,
  isCliError,
  RequestRejectedError,
  RequestTimeoutError,
  ServerFailedError,
  ServerUnreachableError,
} from "./errors.js";

/** What a request was aimed at, for error messages. */
export interface RequestTarget {
  /** The base URL tried, e.g. `http://localhost:8080`. */
  address: string;
  timeoutMs: number;
}

// Socket-level failures, found on the cause chain of connect-node's Unavailable errors.
const SYSCALL_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed (temporary DNS failure)",
  EAI_NONAME: "host not found",
  ECONNRESET: "connection reset by peer",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  EPIPE: "connection closed by peer",
  ECONNABORTED: "connection aborted",
  EADDRNOTAVAIL: "address not available",
};

function causeCodes(err: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = err;
  // Bounded walk: cause chains can in principle be cyclic.
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/**
 * Translates whatever a call threw into a CliError with a one-line, user-facing message. The
 * original error stays reachable as `cause` for debugging.
 */
export function toCliError(err: unknown, target: RequestTarget): CliError {
  if (isCliError(err)) return err;
  const ce = ConnectError.from(err);
  const raw = ce.rawMessage;
  const options = { cause: err };
  const codes = causeCodes(err);
  const syscall = codes.find((c) => c in SYSCALL_REASONS);
  if (syscall !== undefined) {
    return new ServerUnreachableError(target.address, SYSCALL_REASONS[syscall] ?? syscall, options);
  }
  if (codes.some((c) => c.startsWith("ERR_HTTP2_"))) {
    // An HTTP/1.x-only server, TLS on the other end, or anything that is not h2c.
    return new ServerUnreachableError(
      target.address,
      `HTTP/2 ${raw.toLowerCase()} (is a DistKV node listening there? the CLI speaks Connect over cleartext HTTP/2)`,
      options,
    );
  }
  const where = `DistKV at ${target.address}`;
  switch (ce.code) {
    case Code.DeadlineExceeded:
      // connect-node's own client-side deadline says just this; a server-side one says more.
      return new RequestTimeoutError(
        target.address,
        target.timeoutMs,
        `no answer from ${where} within ${formatDuration(target.timeoutMs)} (deadline exceeded)` +
          (raw === "the operation timed out" ? "" : `: ${raw}`),
        options,
      );
    case Code.Unavailable:
      return new ServerFailedError("unavailable", `${where} is unavailable: ${raw}`, options);
    case Code.ResourceExhausted:
      return new ServerFailedError(
        "resource_exhausted",
        `${where} is overloaded (resource exhausted): ${raw}`,
        options,
      );
    case Code.Aborted:
      return new ServerFailedError("aborted", `request aborted by ${where}: ${raw}`, options);
    case Code.Canceled:
      return new ServerFailedError("canceled", `request canceled: ${raw}`, options);
    case Code.InvalidArgument:
      return new RequestRejectedError("invalid_argument", `invalid request: ${raw}`, options);
    case Code.FailedPrecondition:
      return new RequestRejectedError("failed_precondition", `request refused: ${raw}`, options);
    case Code.OutOfRange:
      return new RequestRejectedError("out_of_range", `out of range: ${raw}`, options);
    case Code.PermissionDenied:
      return new RequestRejectedError("permission_denied", `permission denied: ${raw}`, options);
    case Code.Unauthenticated:
      return new RequestRejectedError("unauthenticated", `not authenticated: ${raw}`, options);
    case Code.Unimplemented:
      return new RequestRejectedError(
        "unimplemented",
        `${where} does not support this request (unimplemented): ${raw}`,
        options,
      );
    case Code.AlreadyExists:
    case Code.NotFound:
      return new RequestRejectedError(
        codeToString(ce.code),
        `${codeToString(ce.code)}: ${raw}`,
        options,
      );
    default:
      return new ServerFailedError(
        codeToString(ce.code),
        `${where} failed (${codeToString(ce.code)}): ${raw}`,
        options,
      );
  }
}
