import * as http from "node:http";
import type { Client, Interceptor, Transport } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { ClusterService, KVService } from "./gen/distkv/v1/kv_pb.js";

/** Wire protocols a DistKV node accepts on its single port. */
export type DistKVProtocol = "connect" | "grpc";

export interface DistKVClientOptions {
  /** Node address with scheme, e.g. `http://localhost:8080`. A bare `host:port` gets `http://`. */
  baseUrl: string;
  /**
   * `connect` (Connect protocol) or `grpc`.
   * @default "connect"
   */
  protocol?: DistKVProtocol;
  /**
   * HTTP version for the Connect protocol; gRPC always uses HTTP/2.
   * @default "2"
   */
  httpVersion?: "1.1" | "2";
  /**
   * Binary protobuf (`false`) or JSON (`true`) payloads.
   * @default false
   */
  useJson?: boolean;
  /** Interceptors applied to every call, e.g. for logging or auth headers. */
  interceptors?: Interceptor[];
  /**
   * Default deadline for each call in milliseconds, sent to the server as the Connect/gRPC
   * timeout header; a call's own `timeoutMs` overrides it.
   * @default 5000
   */
  defaultTimeoutMs?: number;
}

export const DEFAULT_CLIENT_TIMEOUT_MS = 5000;

/** A typed client for both public services of one node. */
export interface DistKVClient {
  readonly kv: Client<typeof KVService>;
  readonly cluster: Client<typeof ClusterService>;
  readonly transport: Transport;
  /**
   * Closes the client's connections (its own HTTP/2 session or HTTP/1.1 agent); calls in
   * flight fail. The client must not be used afterwards.
   */
  close(): void;
}

/** Accepts `host:port`, `http://host:port` and `https://host:port`. */
export function normalizeBaseUrl(address: string): string {
  const trimmed = address.trim();
  if (trimmed === "") throw new TypeError("baseUrl must not be empty");
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  const url = new URL(withScheme);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`baseUrl must use http or https, got ${url.protocol}`);
  }
  return withScheme.replace(/\/+$/, "");
}

/**
 * Creates a client for a DistKV node. Each call is a unary Connect (or gRPC) request, which is
 * what the CLI and tools want; one client reuses one HTTP/2 session for all its calls.
 */
export function createDistKVClient(options: DistKVClientOptions): DistKVClient {
  const baseUrl = normalizeBaseUrl(options.baseUrl);
  const protocol = options.protocol ?? "connect";
  const useBinaryFormat = !(options.useJson ?? false);
  const interceptors = options.interceptors ?? [];
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS;
  const httpVersion = protocol === "grpc" ? "2" : (options.httpVersion ?? "2");
  // Each client owns its connections so close() can release them (the default global agent
  // and connect-node's internal session manager cannot be closed from outside).
  let close: () => void;
  let transport: Transport;
  if (httpVersion === "2") {
    const sessionManager = new Http2SessionManager(baseUrl);
    close = () => sessionManager.abort();
    const common = {
      baseUrl,
      httpVersion,
      sessionManager,
      useBinaryFormat,
      interceptors,
      defaultTimeoutMs,
    };
    transport = protocol === "grpc" ? createGrpcTransport(common) : createConnectTransport(common);
  } else {
    const agent = new http.Agent({ keepAlive: true });
    close = () => agent.destroy();
    transport = createConnectTransport({
      baseUrl,
      httpVersion,
      nodeOptions: { agent },
      useBinaryFormat,
      interceptors,
      defaultTimeoutMs,
    });
  }
  return {
    kv: createClient(KVService, transport),
    cluster: createClient(ClusterService, transport),
    transport,
    close,
  };
}
