/**
 * What the commands need from the outside world, injected so that tests can run every command
 * in-process against a real server and read what it printed.
 */
import type { Client } from "@connectrpc/connect";
import type { ClusterService, KVService } from "@distkv/rpc";
import { createDistKVClient } from "@distkv/rpc";
import type { ResolvedCliOptions } from "./options.js";

/** Where output goes: `process.stdout` / `process.stderr`, or a buffer in tests. */
export interface OutputStream {
  write(chunk: string | Uint8Array): unknown;
}

/** The part of DistKVClient the commands use. */
export interface CliClient {
  readonly kv: Client<typeof KVService>;
  readonly cluster: Client<typeof ClusterService>;
  close(): void;
}

export interface ClientFactoryOptions {
  /** Normalised base URL, e.g. `http://localhost:8080`. */
  baseUrl: string;
  /** Deadline of every call. */
  timeoutMs: number;
}

/** Creates the client for one command run; the command closes it when done. */
export type ClientFactory = (options: ClientFactoryOptions) => CliClient;

/** The real client: unary Connect calls over HTTP/2 (one session per run). */
export const defaultClientFactory: ClientFactory = (o) =>
  createDistKVClient({ baseUrl: o.baseUrl, defaultTimeoutMs: o.timeoutMs });

/** Everything a command handler gets. */
export interface CommandContext {
  readonly options: ResolvedCliOptions;
  readonly createClient: ClientFactory;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Wall clock in milliseconds since the epoch (for "last seen 2s ago" and deadlines). */
  readonly now: () => number;
  /** Waits between polls (decommission). */
  readonly sleep: (ms: number) => Promise<void>;
}

/** The real wait. */
export const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
