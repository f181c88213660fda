/**
 * The options every command shares, their defaults, and their validation.
 */
import { Consistency, normalizeBaseUrl } from "@distkv/rpc";
import { parseDuration } from "./duration.js";
import { UsageError } from "./errors.js";

/** Consistency levels as written on the command line. */
export const CONSISTENCY_LEVELS = ["one", "quorum", "all"] as const;
export type ConsistencyLevel = (typeof CONSISTENCY_LEVELS)[number];

export const DEFAULT_SERVER = "localhost:8080";
export const DEFAULT_TIMEOUT = "5s";
export const DEFAULT_CONSISTENCY: ConsistencyLevel = "quorum";

/** The shared options as the command line gives them (strings, before validation). */
export interface CliOptions {
  /**
   * Node to talk to: `host:port`, or a URL with `http://` (any node routes any key).
   * @default "localhost:8080"
   */
  server?: string;
  /**
   * Deadline of the request: `500ms`, `5s`, `2m`, `1m30s`, or a bare number of seconds. Sent to
   * the server too, so it stops waiting for replicas when the client gives up.
   * @default "5s"
   */
  timeout?: string;
  /**
   * Replicas that must answer: `one`, `quorum` (a majority of N) or `all`. Case-insensitive.
   * @default "quorum"
   */
  consistency?: string;
  /**
   * Machine-readable JSON on stdout instead of human output (errors stay text on stderr).
   * @default false
   */
  json?: boolean;
}

export interface ResolvedCliOptions {
  /** The normalised base URL, e.g. `http://localhost:8080`. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly consistencyLevel: ConsistencyLevel;
  readonly consistency: Consistency;
  readonly json: boolean;
}

const TO_PROTO: Readonly<Record<ConsistencyLevel, Consistency>> = {
  one: Consistency.ONE,
  quorum: Consistency.QUORUM,
  all: Consistency.ALL,
};

/** `one`, `quorum` or `all`, in any case; anything else is a UsageError listing the choices. */
export function parseConsistency(text: string): ConsistencyLevel {
  const level = text.trim().toLowerCase();
  if ((CONSISTENCY_LEVELS as readonly string[]).includes(level)) return level as ConsistencyLevel;
  throw new UsageError(
    `unknown consistency level ${JSON.stringify(text)}: expected one of ${CONSISTENCY_LEVELS.join(", ")}`,
  );
}

/** Validates the shared options and fills in defaults; the result is frozen. */
export function resolveCliOptions(options: CliOptions = {}): ResolvedCliOptions {
  const server = options.server ?? DEFAULT_SERVER;
  let baseUrl: string;
  try {
    baseUrl = normalizeBaseUrl(server);
  } catch (e) {
    throw new UsageError(
      `invalid --server ${JSON.stringify(server)}: ${(e as Error).message}`,
      undefined,
      {
        cause: e,
      },
    );
  }
  const timeoutMs = parseDuration(options.timeout ?? DEFAULT_TIMEOUT, "--timeout");
  const consistencyLevel = parseConsistency(options.consistency ?? DEFAULT_CONSISTENCY);
  return Object.freeze({
    baseUrl,
    timeoutMs,
    consistencyLevel,
    consistency: TO_PROTO[consistencyLevel],
    json: options.json ?? false,
  });
}
