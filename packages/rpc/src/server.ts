/**
 * One port for everything: Connect, gRPC and gRPC-Web, with JSON or binary payloads, over
 * HTTP/1.1 and cleartext HTTP/2 (h2c). Each TCP connection is sniffed (protocol-sniffer.ts)
 * and handed to an http or an http2 server that both run the same Connect handler. Bidi
 * streams (PeerService.Channel, KVService.Pipeline) need HTTP/2; unary calls work on both, so
 * plain `curl -H 'content-type: application/json' -d '{...}'` works against the same port.
 */

import { setMaxListeners } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { ConnectRouter, ContextValues, Interceptor } from "@connectrpc/connect";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { drainSignalKey } from "./context.js";
import { InvalidArgumentError } from "./errors.js";
import { sniffProtocol } from "./protocol-sniffer.js";

/** The request object Node hands to the handler, HTTP/1 or HTTP/2. */
export type NodeServerRequest = http.IncomingMessage | http2.Http2ServerRequest;

export interface DistKVServerOptions {
  /** Registers the services: `(router) => { router.service(KVService, impl); ... }`. */
  routes: (router: ConnectRouter) => void;
  /**
   * Interface to listen on.
   * @default "127.0.0.1"
   */
  host?: string;
  /**
   * Port; 0 picks a free one (read it from `port` after start()).
   * @default 0
   */
  port?: number;
  /**
   * Largest request message, checked by Connect before the message is buffered (from
   * Content-Length or the envelope header); larger ones fail with RESOURCE_EXHAUSTED. Applies
   * to each message of a stream. Keep it above the mux clients' maxFrameBytes.
   * @default 8 MiB
   */
  readMaxBytes?: number;
  /**
   * Largest response message the server will send.
   * @default 16 MiB
   */
  writeMaxBytes?: number;
  /**
   * Largest timeout a client may ask for in the Connect/gRPC timeout header.
   * @default 300000
   */
  maxTimeoutMs?: number;
  /**
   * Open TCP connections at once; beyond this new ones are closed at once.
   * @default 4096
   */
  maxConnections?: number;
  /**
   * A new connection must send enough bytes to tell HTTP/1 from HTTP/2 within this.
   * @default 10000
   */
  sniffTimeoutMs?: number;
  /**
   * Largest request header block (HTTP/1 maxHeaderSize, HTTP/2 maxHeaderListSize).
   * @default 16384
   */
  maxHeaderBytes?: number;
  /**
   * HTTP/1: time to receive the request headers.
   * @default 10000
   */
  headersTimeoutMs?: number;
  /**
   * HTTP/1: time to receive a whole request.
   * @default 60000
   */
  requestTimeoutMs?: number;
  /**
   * HTTP/1: how long an idle keep-alive connection stays open.
   * @default 5000
   */
  keepAliveTimeoutMs?: number;
  /**
   * HTTP/2: concurrent streams per connection.
   * @default 1000
   */
  maxConcurrentStreams?: number;
  /**
   * HTTP/2: memory a session may use for buffered frames, in MiB (Node's maxSessionMemory).
   * @default 32
   */
  maxSessionMemoryMiB?: number;
  /**
   * stop(): how long in-flight calls may run before connections are destroyed.
   * @default 5000
   */
  gracePeriodMs?: number;
  /** Interceptors for every call. */
  interceptors?: Interceptor[];
  /** Context values for every call; the server adds drainSignalKey. */
  contextValues?: (req: NodeServerRequest) => ContextValues;
  /** Called for connection-level errors (bad HTTP, broken sessions); must not block. */
  onError?: (err: unknown) => void;
}

export const DEFAULT_SERVER_HOST = "127.0.0.1";
export const DEFAULT_SERVER_READ_MAX_BYTES = 8 * 1024 * 1024;
export const DEFAULT_SERVER_WRITE_MAX_BYTES = 16 * 1024 * 1024;
export const DEFAULT_SERVER_MAX_TIMEOUT_MS = 300_000;
export const DEFAULT_SERVER_MAX_CONNECTIONS = 4096;
export const DEFAULT_SNIFF_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_CONCURRENT_STREAMS = 1000;
export const DEFAULT_MAX_SESSION_MEMORY_MIB = 32;
export const DEFAULT_GRACE_PERIOD_MS = 5_000;

export type ResolvedDistKVServerOptions = Readonly<
  Required<Omit<DistKVServerOptions, "contextValues" | "onError" | "interceptors">> & {
    interceptors: Interceptor[];
    contextValues: ((req: NodeServerRequest) => ContextValues) | undefined;
    onError: ((err: unknown) => void) | undefined;
  }
>;

export function resolveDistKVServerOptions(o: DistKVServerOptions): ResolvedDistKVServerOptions {
  if (typeof o.routes !== "function") throw new InvalidArgumentError("routes must be a function");
  const r = {
    routes: o.routes,
    host: o.host ?? DEFAULT_SERVER_HOST,
    port: o.port ?? 0,
    readMaxBytes: o.readMaxBytes ?? DEFAULT_SERVER_READ_MAX_BYTES,
    writeMaxBytes: o.writeMaxBytes ?? DEFAULT_SERVER_WRITE_MAX_BYTES,
    maxTimeoutMs: o.maxTimeoutMs ?? DEFAULT_SERVER_MAX_TIMEOUT_MS,
    maxConnections: o.maxConnections ?? DEFAULT_SERVER_MAX_CONNECTIONS,
    sniffTimeoutMs: o.sniffTimeoutMs ?? DEFAULT_SNIFF_TIMEOUT_MS,
    maxHeaderBytes: o.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
    headersTimeoutMs: o.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: o.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    maxConcurrentStreams: o.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
    maxSessionMemoryMiB: o.maxSessionMemoryMiB ?? DEFAULT_MAX_SESSION_MEMORY_MIB,
    gracePeriodMs: o.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS,
    interceptors: o.interceptors ?? [],
    contextValues: o.contextValues,
    onError: o.onError,
  };
  if (!Number.isInteger(r.port) || r.port < 0 || r.port > 65535) {
    throw new InvalidArgumentError(`port must be in 0..65535, got ${r.port}`);
  }
  for (const k of [
    "readMaxBytes",
    "writeMaxBytes",
    "maxTimeoutMs",
    "maxConnections",
    "sniffTimeoutMs",
    "maxHeaderBytes",
    "headersTimeoutMs",
    "requestTimeoutMs",
    "keepAliveTimeoutMs",
    "maxConcurrentStreams",
    "maxSessionMemoryMiB",
  ] as const) {
    if (!Number.isSafeInteger(r[k]) || r[k] < 1) {
      throw new InvalidArgumentError(`${k} must be a positive integer, got ${r[k]}`);
    }
  }
  if (!Number.isFinite(r.gracePeriodMs) || r.gracePeriodMs < 0) {
    throw new InvalidArgumentError(`gracePeriodMs must be >= 0, got ${r.gracePeriodMs}`);
  }
  // Node measures the request timeout against the headers timeout.
  if (r.headersTimeoutMs > r.requestTimeoutMs) {
    throw new InvalidArgumentError("headersTimeoutMs must not exceed requestTimeoutMs");
  }
  return Object.freeze(r);
}

export interface DistKVServerStopOptions {
  /** Overrides the server's gracePeriodMs. */
  gracePeriodMs?: number;
}

export interface DistKVServer {
  readonly options: ResolvedDistKVServerOptions;
  /** Listens; resolves with the bound port. */
  start(): Promise<number>;
  /**
   * Graceful stop: stop accepting, tell long-lived streams to drain (drainSignalKey), let
   * in-flight calls finish for up to the grace period, then abort handlers and destroy what
   * is left. Resolves when every connection is closed.
   */
  stop(options?: DistKVServerStopOptions): Promise<void>;
  /** The bound port (0 before start()). */
  readonly port: number;
  /** `http://host:port` of the bound address. */
  readonly url: string;
  /** Open TCP connections. */
  readonly connections: number;
}

class OnePortServer implements DistKVServer {
  readonly options: ResolvedDistKVServerOptions;
  private readonly net: net.Server;
  private readonly h1: http.Server;
  private readonly h2: http2.Http2Server;
  private readonly sockets = new Set<net.Socket>();
  /** Connections whose protocol is not known yet. */
  private readonly sniffing = new Set<net.Socket>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  /** HTTP/1 connections and their requests in flight (Node tracks idle connections only for
   * servers that listen themselves, which ours do not). */
  private readonly h1Sockets = new Map<net.Socket, number>();
  private readonly drain = new AbortController();
  private readonly shutdown = new AbortController();
  private boundPort = 0;
  private stopping: Promise<void> | undefined;

  constructor(options: DistKVServerOptions) {
    const o = resolveDistKVServerOptions(options);
    this.options = o;
    const drainSignal = this.drain.signal;
    // Every call in flight listens on these (Connect links its handler signal to the
    // shutdown signal; mux streams watch the drain signal): hundreds at once are normal.
    setMaxListeners(0, this.shutdown.signal, drainSignal);
    const handler = connectNodeAdapter({
      routes: o.routes,
      readMaxBytes: o.readMaxBytes,
      writeMaxBytes: o.writeMaxBytes,
      maxTimeoutMs: o.maxTimeoutMs,
      shutdownSignal: this.shutdown.signal,
      interceptors: o.interceptors,
      contextValues: (req) => {
        const values = o.contextValues?.(req) ?? createContextValues();
        values.set(drainSignalKey, drainSignal);
        return values;
      },
    });
    this.h1 = http.createServer(
      {
        maxHeaderSize: o.maxHeaderBytes,
        headersTimeout: o.headersTimeoutMs,
        requestTimeout: o.requestTimeoutMs,
        keepAliveTimeout: o.keepAliveTimeoutMs,
      },
      handler,
    );
    this.h1.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      const socket = req.socket;
      this.h1Sockets.set(socket, (this.h1Sockets.get(socket) ?? 0) + 1);
      if (this.stopping !== undefined && !res.headersSent) res.setHeader("connection", "close");
      res.once("close", () => {
        const n = (this.h1Sockets.get(socket) ?? 1) - 1;
        if (!this.h1Sockets.has(socket)) return;
        this.h1Sockets.set(socket, n);
        if (n === 0 && this.stopping !== undefined) socket.end();
      });
    });
    this.h1.on("clientError", (err, socket) => {
      o.onError?.(err);
      socket.destroy();
    });
    this.h2 = http2.createServer(
      {
        maxSessionMemory: o.maxSessionMemoryMiB,
        settings: {
          maxConcurrentStreams: o.maxConcurrentStreams,
          maxHeaderListSize: o.maxHeaderBytes,
        },
      },
      handler,
    );
    this.h2.on("session", (session: http2.ServerHttp2Session) => {
      this.sessions.add(session);
      session.on("close", () => this.sessions.delete(session));
      session.on("error", (err) => o.onError?.(err));
      if (this.stopping !== undefined) session.close();
    });
    this.h2.on("sessionError", (err) => o.onError?.(err));
    this.net = net.createServer((socket) => this.accept(socket));
    this.net.maxConnections = o.maxConnections;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    const h = this.options.host;
    return `http://${h.includes(":") ? `[${h}]` : h}:${this.boundPort}`;
  }

  get connections(): number {
    return this.sockets.size;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.setNoDelay(true);
    if (this.stopping !== undefined) {
      socket.destroy();
      return;
    }
    this.sniffing.add(socket);
    socket.once("close", () => this.sniffing.delete(socket));
    sniffProtocol(socket, this.options.sniffTimeoutMs, (protocol) => {
      this.sniffing.delete(socket);
      if (protocol === "h2c") this.h2.emit("connection", socket);
      else {
        this.h1Sockets.set(socket, 0);
        socket.once("close", () => this.h1Sockets.delete(socket));
        this.h1.emit("connection", socket);
      }
    });
  }

  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.net.once("error", onError);
      this.net.listen(this.options.port, this.options.host, () => {
        this.net.removeListener("error", onError);
        const addr = this.net.address();
        this.boundPort = typeof addr === "object" && addr !== null ? addr.port : 0;
        resolve(this.boundPort);
      });
    });
  }

  stop(options?: DistKVServerStopOptions): Promise<void> {
    if (this.stopping === undefined)
      this.stopping = this.doStop(options?.gracePeriodMs ?? this.options.gracePeriodMs);
    return this.stopping;
  }

  private async doStop(gracePeriodMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (!this.net.listening) resolve();
      else this.net.close(() => resolve());
    });
    this.drain.abort(new ConnectError("the server is shutting down", Code.Unavailable));
    // HTTP/2: GOAWAY; open streams may finish, new ones go elsewhere.
    for (const s of this.sessions) s.close();
    // A connection that has not sent a request yet has nothing in flight.
    for (const socket of this.sniffing) socket.destroy();
    // HTTP/1: close idle keep-alive connections now, busy ones when their last response ends.
    for (const [socket, active] of this.h1Sockets) if (active === 0) socket.end();
    const deadline = Date.now() + gracePeriodMs;
    while (this.sockets.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (this.sockets.size > 0) {
      this.shutdown.abort(new ConnectError("the server stopped", Code.Unavailable));
      for (const s of this.sessions) s.destroy();
      for (const s of this.sockets) s.destroy();
    }
    await closed;
  }
}

/** Creates the one-port server; call start() to listen. */
export function createDistKVServer(options: DistKVServerOptions): DistKVServer {
  return new OnePortServer(options);
}
