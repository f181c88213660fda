/**
 * One port for everything: Connect, gRPC and gRPC-Web, with JSON or binary payloads, over
 * HTTP/1.1 and cleartext HTTP/2 (h2c). Each TCP connection is sniffed (protocol-sniffer.ts)
 * and handed to an http or an http2 server that both run the same Connect handler. Bidi
 * streams (PeerService.Channel, KVService.Pipeline) need HTTP/2; unary calls work on both, so
 * plain `curl -H 'content-type: application/json' -d '{...}'` works against the same port.
 *
 * Bidi streams also run over plain TCP on the same port (mux-tcp, tcp-stream.ts): the sniffer
 * recognises its magic, the connection names its method, and the same handler serves it with
 * the same meter, budgets and limits, minus the HTTP/2 framing.
 *
 * Limits, all enforced before the bytes they guard are buffered (README "Limits"):
 * - Two traffic classes, told apart by the service a call goes to: peer traffic (PeerService
 *   by default: replication, read repair, handoff, anti-entropy) and client traffic
 *   (everything else). Each class has its own message size limit, connection cap and byte
 *   budgets, so clients exhausting theirs never block peers.
 * - A connection is "pending" from accept until its first request's headers arrive; pending
 *   connections have a small cap of their own and must identify within headersTimeoutMs. The
 *   first request's service decides the connection's class, and its class's connection cap.
 * - Request bytes are charged to the connection's and the class's in-flight budgets by a
 *   meter on the body (request-meter.ts), response bytes while they wait to be written. A
 *   unary call that does not fit is refused with RESOURCE_EXHAUSTED; a stream waits.
 * - Slow clients: HTTP/1 header and request timeouts, a body deadline for unary calls on both
 *   protocols, an idle timeout for HTTP/2 sessions without streams.
 */

import { setMaxListeners } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  isMessage,
} from "@bufbuild/protobuf";
import type {
  ConnectRouter,
  ContextValues,
  HandlerContext,
  Interceptor,
  MethodImpl,
  ServiceImpl,
} from "@connectrpc/connect";
import { Code, ConnectError, createContextValues, createHandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ByteBudget, Charge } from "./budget.js";
import { drainSignalKey, streamMeterKey } from "./context.js";
import { InvalidArgumentError } from "./errors.js";
import { PeerService } from "./gen/distkv/v1/peer_pb.js";
import { sniffProtocol } from "./protocol-sniffer.js";
import { RequestMeter } from "./request-meter.js";
import {
  decodeMessage,
  drained,
  ENVELOPE_HEADER_BYTES,
  EnvelopeSplitter,
  encodeEndEnvelope,
  FLAG_END_STREAM,
  MAX_PATH_BYTES,
  MUX_TCP_MAGIC,
  messageEnvelope,
} from "./tcp-stream.js";

/** The request object Node hands to the handler, HTTP/1 or HTTP/2. */
export type NodeServerRequest = http.IncomingMessage | http2.Http2ServerRequest;

/** Client traffic (public API) or peer traffic (node to node). */
export type TrafficClass = "client" | "peer";

/** The limits of one traffic class. */
export interface TrafficLimits {
  /**
   * Largest request message (a unary body, or one message of a stream), checked from
   * Content-Length or the envelope header before the message is buffered; larger ones fail
   * with RESOURCE_EXHAUSTED (a stream fails as a whole).
   */
  readMaxBytes?: number;
  /** Open connections of this class; the first request of one more is refused. */
  maxConnections?: number;
  /**
   * Bytes all requests of this class may hold at once: request messages being received and
   * decoded (estimated decoded size) until their call ends, plus responses not yet written.
   */
  maxInFlightBytes?: number;
  /** The same, per connection. */
  maxConnectionInFlightBytes?: number;
}

export interface PeerTrafficOptions extends TrafficLimits {
  /**
   * Fully qualified names of the services whose calls are peer traffic.
   * @default ["distkv.v1.PeerService"]
   */
  services?: string[];
}

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
   * Client traffic: largest request message (see TrafficLimits.readMaxBytes). Keep it above
   * the pipelined clients' maxFrameBytes and maxBatchBytes.
   * @default 8 MiB
   */
  readMaxBytes?: number;
  /**
   * Client traffic: open connections.
   * @default 4096
   */
  maxConnections?: number;
  /**
   * Client traffic: in-flight bytes of all client requests (TrafficLimits.maxInFlightBytes).
   * @default 256 MiB
   */
  maxInFlightBytes?: number;
  /**
   * Client traffic: in-flight bytes per connection.
   * @default 32 MiB
   */
  maxConnectionInFlightBytes?: number;
  /**
   * Peer traffic: which services it is, and its limits.
   * @default { services: ["distkv.v1.PeerService"], readMaxBytes: 16 MiB, maxConnections: 256,
   *   maxInFlightBytes: 512 MiB, maxConnectionInFlightBytes: 256 MiB }
   */
  peer?: PeerTrafficOptions;
  /**
   * Connections that have not sent a complete request header yet (their class is unknown);
   * beyond this, new connections are closed at once.
   * @default 256
   */
  maxPendingConnections?: number;
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
   * A new connection must deliver its first request's headers within this (both protocols);
   * HTTP/1 also: every request's headers.
   * @default 10000
   */
  headersTimeoutMs?: number;
  /**
   * The body of a unary call must arrive within this (both protocols; DEADLINE_EXCEEDED);
   * HTTP/1 also: the whole request.
   * @default 60000
   */
  requestTimeoutMs?: number;
  /**
   * HTTP/1: how long an idle keep-alive connection stays open.
   * @default 5000
   */
  keepAliveTimeoutMs?: number;
  /**
   * HTTP/2: a session without open streams for this long is closed (GOAWAY).
   * @default 120000
   */
  idleTimeoutMs?: number;
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
   * Accept gzip/brotli-compressed requests (and compress responses for clients that ask).
   * Off by default: a compressed message's decoded size cannot be estimated before it is
   * inflated, so it is charged readMaxBytes on top of its wire size instead, and the CPU goes
   * to compression (our clients never compress).
   * @default false
   */
  acceptCompression?: boolean;
  /**
   * stop(): how long in-flight calls may run before connections are destroyed.
   * @default 5000
   */
  gracePeriodMs?: number;
  /** Interceptors for every call. */
  interceptors?: Interceptor[];
  /** Context values for every call; the server adds drainSignalKey (and streamMeterKey). */
  contextValues?: (req: NodeServerRequest) => ContextValues;
  /** Called for connection-level errors (bad HTTP, broken sessions); must not block. */
  onError?: (err: unknown) => void;
}

export const DEFAULT_SERVER_HOST = "127.0.0.1";
export const DEFAULT_SERVER_READ_MAX_BYTES = 8 * 1024 * 1024;
export const DEFAULT_SERVER_WRITE_MAX_BYTES = 16 * 1024 * 1024;
export const DEFAULT_SERVER_MAX_TIMEOUT_MS = 300_000;
export const DEFAULT_SERVER_MAX_CONNECTIONS = 4096;
export const DEFAULT_SERVER_MAX_IN_FLIGHT_BYTES = 256 * 1024 * 1024;
export const DEFAULT_SERVER_MAX_CONNECTION_IN_FLIGHT_BYTES = 32 * 1024 * 1024;
export const DEFAULT_PEER_SERVICES: readonly string[] = [PeerService.typeName];
export const DEFAULT_PEER_READ_MAX_BYTES = 16 * 1024 * 1024;
export const DEFAULT_PEER_MAX_CONNECTIONS = 256;
export const DEFAULT_PEER_MAX_IN_FLIGHT_BYTES = 512 * 1024 * 1024;
export const DEFAULT_PEER_MAX_CONNECTION_IN_FLIGHT_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_PENDING_CONNECTIONS = 256;
export const DEFAULT_SNIFF_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_CONCURRENT_STREAMS = 1000;
export const DEFAULT_MAX_SESSION_MEMORY_MIB = 32;
export const DEFAULT_GRACE_PERIOD_MS = 5_000;

export type ResolvedTrafficLimits = Readonly<Required<TrafficLimits>>;

export interface ResolvedDistKVServerOptions {
  readonly routes: (router: ConnectRouter) => void;
  readonly host: string;
  readonly port: number;
  /** Client traffic (the same numbers as `client`). */
  readonly readMaxBytes: number;
  readonly maxConnections: number;
  readonly maxInFlightBytes: number;
  readonly maxConnectionInFlightBytes: number;
  readonly client: ResolvedTrafficLimits;
  readonly peer: ResolvedTrafficLimits & { readonly services: readonly string[] };
  readonly maxPendingConnections: number;
  readonly writeMaxBytes: number;
  readonly maxTimeoutMs: number;
  readonly sniffTimeoutMs: number;
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxConcurrentStreams: number;
  readonly maxSessionMemoryMiB: number;
  readonly acceptCompression: boolean;
  readonly gracePeriodMs: number;
  readonly interceptors: Interceptor[];
  readonly contextValues: ((req: NodeServerRequest) => ContextValues) | undefined;
  readonly onError: ((err: unknown) => void) | undefined;
}

function checkPositive(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new InvalidArgumentError(`${name} must be a positive integer, got ${v}`);
  }
}

function resolveTraffic(
  prefix: string,
  limits: TrafficLimits,
  defaults: ResolvedTrafficLimits,
): ResolvedTrafficLimits {
  const r = {
    readMaxBytes: limits.readMaxBytes ?? defaults.readMaxBytes,
    maxConnections: limits.maxConnections ?? defaults.maxConnections,
    maxInFlightBytes: limits.maxInFlightBytes ?? defaults.maxInFlightBytes,
    maxConnectionInFlightBytes:
      limits.maxConnectionInFlightBytes ?? defaults.maxConnectionInFlightBytes,
  };
  for (const [k, v] of Object.entries(r)) checkPositive(`${prefix}${k}`, v);
  if (r.readMaxBytes > r.maxConnectionInFlightBytes) {
    throw new InvalidArgumentError(
      `${prefix}readMaxBytes (${r.readMaxBytes}) must not exceed ${prefix}maxConnectionInFlightBytes (${r.maxConnectionInFlightBytes})`,
    );
  }
  if (r.maxConnectionInFlightBytes > r.maxInFlightBytes) {
    throw new InvalidArgumentError(
      `${prefix}maxConnectionInFlightBytes (${r.maxConnectionInFlightBytes}) must not exceed ${prefix}maxInFlightBytes (${r.maxInFlightBytes})`,
    );
  }
  return Object.freeze(r);
}

export function resolveDistKVServerOptions(o: DistKVServerOptions): ResolvedDistKVServerOptions {
  if (typeof o.routes !== "function") throw new InvalidArgumentError("routes must be a function");
  const client = resolveTraffic("", o, {
    readMaxBytes: DEFAULT_SERVER_READ_MAX_BYTES,
    maxConnections: DEFAULT_SERVER_MAX_CONNECTIONS,
    maxInFlightBytes: DEFAULT_SERVER_MAX_IN_FLIGHT_BYTES,
    maxConnectionInFlightBytes: DEFAULT_SERVER_MAX_CONNECTION_IN_FLIGHT_BYTES,
  });
  const peerLimits = resolveTraffic("peer.", o.peer ?? {}, {
    readMaxBytes: DEFAULT_PEER_READ_MAX_BYTES,
    maxConnections: DEFAULT_PEER_MAX_CONNECTIONS,
    maxInFlightBytes: DEFAULT_PEER_MAX_IN_FLIGHT_BYTES,
    maxConnectionInFlightBytes: DEFAULT_PEER_MAX_CONNECTION_IN_FLIGHT_BYTES,
  });
  const services = Object.freeze([...(o.peer?.services ?? DEFAULT_PEER_SERVICES)]);
  const r: ResolvedDistKVServerOptions = {
    routes: o.routes,
    host: o.host ?? DEFAULT_SERVER_HOST,
    port: o.port ?? 0,
    ...client,
    client,
    peer: Object.freeze({ ...peerLimits, services }),
    maxPendingConnections: o.maxPendingConnections ?? DEFAULT_MAX_PENDING_CONNECTIONS,
    writeMaxBytes: o.writeMaxBytes ?? DEFAULT_SERVER_WRITE_MAX_BYTES,
    maxTimeoutMs: o.maxTimeoutMs ?? DEFAULT_SERVER_MAX_TIMEOUT_MS,
    sniffTimeoutMs: o.sniffTimeoutMs ?? DEFAULT_SNIFF_TIMEOUT_MS,
    maxHeaderBytes: o.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
    headersTimeoutMs: o.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: o.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    idleTimeoutMs: o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    maxConcurrentStreams: o.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
    maxSessionMemoryMiB: o.maxSessionMemoryMiB ?? DEFAULT_MAX_SESSION_MEMORY_MIB,
    acceptCompression: o.acceptCompression ?? false,
    gracePeriodMs: o.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS,
    interceptors: o.interceptors ?? [],
    contextValues: o.contextValues,
    onError: o.onError,
  };
  if (!Number.isInteger(r.port) || r.port < 0 || r.port > 65535) {
    throw new InvalidArgumentError(`port must be in 0..65535, got ${r.port}`);
  }
  for (const k of [
    "maxPendingConnections",
    "writeMaxBytes",
    "maxTimeoutMs",
    "sniffTimeoutMs",
    "maxHeaderBytes",
    "headersTimeoutMs",
    "requestTimeoutMs",
    "keepAliveTimeoutMs",
    "idleTimeoutMs",
    "maxConcurrentStreams",
    "maxSessionMemoryMiB",
  ] as const) {
    checkPositive(k, r[k]);
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

/** What the server holds now, and what its limits refused so far. */
export interface DistKVServerUsage {
  /** Connections whose first request has not arrived yet. */
  readonly pendingConnections: number;
  readonly connections: Readonly<Record<TrafficClass, number>>;
  /** Bytes charged to each class's in-flight budget. */
  readonly inFlightBytes: Readonly<Record<TrafficClass, number>>;
  /** Connections closed by the pending cap or a class's connection cap. */
  readonly refusedConnections: number;
  /**
   * Calls the server refused before its handler saw them: over an in-flight budget
   * (RESOURCE_EXHAUSTED), past their body deadline (DEADLINE_EXCEEDED), malformed
   * (INVALID_ARGUMENT), or on a connection refused by a connection cap.
   */
  readonly refusedRequests: number;
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
  usage(): DistKVServerUsage;
}

/** One traffic class at run time. */
interface ClassState {
  readonly name: TrafficClass;
  readonly limits: ResolvedTrafficLimits;
  readonly budget: ByteBudget;
  readonly connections: Set<Conn>;
}

/** One TCP connection. */
interface Conn {
  /** Undefined while pending. */
  cls: ClassState | undefined;
  budget: ByteBudget | undefined;
  /** The identify deadline while pending; the idle timer of an HTTP/2 session after. */
  timer: NodeJS.Timeout | undefined;
  session: http2.ServerHttp2Session | undefined;
  /** Open HTTP/2 streams. */
  streams: number;
}

/** A bidi streaming method's implementation, as registered with the router. */
type BidiImpl = (requests: AsyncIterable<unknown>, ctx: HandlerContext) => AsyncIterable<unknown>;

interface Route {
  readonly method: DescMethod;
  readonly cls: TrafficClass;
  /** Bidi methods: the implementation, which mux-tcp connections call directly. */
  readonly bidi?: BidiImpl;
}

/** How long a refused HTTP/2 request may go on sending after its answer before it is reset. */
const RESET_DELAY_MS = 200;

function contentLengthOf(req: NodeServerRequest): number | undefined {
  const v = req.headers["content-length"];
  if (typeof v !== "string" || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

class OnePortServer implements DistKVServer {
  readonly options: ResolvedDistKVServerOptions;
  private readonly net: net.Server;
  private readonly h1: http.Server;
  private readonly h2: http2.Http2Server;
  private readonly handler: (
    req: NodeServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ) => void;
  private readonly sockets = new Set<net.Socket>();
  /** Connections whose protocol is not known yet. */
  private readonly sniffing = new Set<net.Socket>();
  private readonly conns = new Map<net.Socket, Conn>();
  private readonly pending = new Set<Conn>();
  private readonly sessionConns = new WeakMap<http2.ServerHttp2Session, Conn>();
  /** The connection being handed to the http2 server (it creates its session synchronously). */
  private accepting: Conn | undefined;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  /** HTTP/1 connections and their requests in flight (Node tracks idle connections only for
   * servers that listen themselves, which ours do not). */
  private readonly h1Sockets = new Map<net.Socket, number>();
  private readonly classes: Record<TrafficClass, ClassState>;
  private readonly routeTable = new Map<string, Route>();
  private readonly meters = new WeakMap<NodeServerRequest, RequestMeter>();
  private readonly drain = new AbortController();
  private readonly shutdown = new AbortController();
  private refusedConnections = 0;
  private refusedRequests = 0;
  private boundPort = 0;
  private stopping: Promise<void> | undefined;

  constructor(options: DistKVServerOptions) {
    const o = resolveDistKVServerOptions(options);
    this.options = o;
    const classState = (name: TrafficClass, limits: ResolvedTrafficLimits): ClassState => ({
      name,
      limits,
      budget: new ByteBudget(`the server's limit for ${name} traffic`, limits.maxInFlightBytes),
      connections: new Set(),
    });
    this.classes = { client: classState("client", o.client), peer: classState("peer", o.peer) };
    const drainSignal = this.drain.signal;
    // Every call in flight listens on these (Connect links its handler signal to the
    // shutdown signal; mux streams watch the drain signal): hundreds at once are normal.
    setMaxListeners(0, this.shutdown.signal, drainSignal);
    this.handler = connectNodeAdapter({
      routes: (router) => o.routes(this.classifyingRouter(router)),
      readMaxBytes: o.client.readMaxBytes,
      writeMaxBytes: o.writeMaxBytes,
      maxTimeoutMs: o.maxTimeoutMs,
      shutdownSignal: this.shutdown.signal,
      interceptors: o.interceptors,
      // Unknown fields are dropped: kept, each one costs an object (70x its wire size).
      binaryOptions: { readUnknownFields: false },
      ...(o.acceptCompression ? {} : { acceptCompression: [] }),
      contextValues: (req) => {
        const values = o.contextValues?.(req) ?? createContextValues();
        values.set(drainSignalKey, drainSignal);
        const meter = this.meters.get(req);
        if (meter !== undefined) values.set(streamMeterKey, meter);
        return values;
      },
    });
    const onRequest = (
      req: NodeServerRequest,
      res: http.ServerResponse | http2.Http2ServerResponse,
    ): void => this.onRequest(req, res);
    this.h1 = http.createServer(
      {
        maxHeaderSize: o.maxHeaderBytes,
        headersTimeout: o.headersTimeoutMs,
        requestTimeout: o.requestTimeoutMs,
        keepAliveTimeout: o.keepAliveTimeoutMs,
        connectionsCheckingInterval: Math.min(1000, o.headersTimeoutMs),
      },
      onRequest,
    );
    // Node enforces headersTimeout and requestTimeout from a timer it starts on 'listening'.
    // Our http server never listens (connections come from the sniffer), so without this the
    // two timeouts were silently off and a slowloris client could hold a connection forever.
    this.h1.emit("listening");
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
      onRequest,
    );
    this.h2.on("session", (session: http2.ServerHttp2Session) => this.onSession(session));
    this.h2.on("sessionError", (err) => o.onError?.(err));
    this.net = net.createServer((socket) => this.accept(socket));
    // A backstop; the per-class caps and the pending cap are the real limits.
    this.net.maxConnections =
      o.client.maxConnections + o.peer.maxConnections + o.maxPendingConnections;
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

  usage(): DistKVServerUsage {
    const { client, peer } = this.classes;
    return {
      pendingConnections: this.pending.size,
      connections: { client: client.connections.size, peer: peer.connections.size },
      inFlightBytes: { client: client.budget.used, peer: peer.budget.used },
      refusedConnections: this.refusedConnections,
      refusedRequests: this.refusedRequests,
    };
  }

  /**
   * The router handed to `routes`: records which class each method belongs to and gives peer
   * services the peer readMaxBytes.
   */
  private classifyingRouter(router: ConnectRouter): ConnectRouter {
    const peerServices = new Set(this.options.peer.services);
    const classOf = (service: DescService): TrafficClass =>
      peerServices.has(service.typeName) ? "peer" : "client";
    const record = (method: DescMethod, cls: TrafficClass, impl?: unknown): void => {
      const bidi =
        method.methodKind === "bidi_streaming" && typeof impl === "function"
          ? (impl as BidiImpl)
          : undefined;
      this.routeTable.set(`/${method.parent.typeName}/${method.name}`, {
        method,
        cls,
        ...(bidi === undefined ? {} : { bidi }),
      });
    };
    const limitsOf = (cls: TrafficClass) => ({
      readMaxBytes: this.classes[cls].limits.readMaxBytes,
    });
    const wrapped = {
      get handlers() {
        return router.handlers;
      },
      service: <T extends DescService>(
        service: T,
        implementation: Partial<ServiceImpl<T>>,
        opts?: Parameters<ConnectRouter["service"]>[2],
      ) => {
        const cls = classOf(service);
        const impls = implementation as Record<string, unknown>;
        for (const m of service.methods) {
          const impl = impls[m.localName];
          record(m, cls, typeof impl === "function" ? impl.bind(implementation) : undefined);
        }
        router.service(service, implementation, { ...limitsOf(cls), ...opts });
        return wrapped;
      },
      rpc: <M extends DescMethod>(
        method: M,
        impl: MethodImpl<M>,
        opts?: Parameters<ConnectRouter["rpc"]>[2],
      ) => {
        const cls = classOf(method.parent);
        record(method, cls, impl);
        router.rpc(method, impl, { ...limitsOf(cls), ...opts });
        return wrapped;
      },
    };
    return wrapped as unknown as ConnectRouter;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.setNoDelay(true);
    if (this.stopping !== undefined) {
      socket.destroy();
      return;
    }
    if (this.pending.size >= this.options.maxPendingConnections) {
      this.refusedConnections++;
      socket.destroy();
      return;
    }
    const conn: Conn = {
      cls: undefined,
      budget: undefined,
      timer: undefined,
      session: undefined,
      streams: 0,
    };
    this.conns.set(socket, conn);
    this.pending.add(conn);
    conn.timer = setTimeout(() => {
      if (conn.cls === undefined) socket.destroy();
    }, this.options.headersTimeoutMs);
    socket.once("close", () => {
      clearTimeout(conn.timer);
      this.pending.delete(conn);
      conn.cls?.connections.delete(conn);
      this.conns.delete(socket);
    });
    this.sniffing.add(socket);
    socket.once("close", () => this.sniffing.delete(socket));
    sniffProtocol(socket, this.options.sniffTimeoutMs, (protocol) => {
      this.sniffing.delete(socket);
      if (protocol === "mux-tcp") {
        void this.onTcpStream(socket, conn).catch((err: unknown) => {
          this.options.onError?.(err);
          socket.destroy();
        });
      } else if (protocol === "h2c") {
        this.accepting = conn;
        try {
          this.h2.emit("connection", socket);
        } finally {
          this.accepting = undefined;
        }
      } else {
        this.h1Sockets.set(socket, 0);
        socket.once("close", () => this.h1Sockets.delete(socket));
        this.h1.emit("connection", socket);
      }
    });
  }

  /**
   * A mux-tcp connection (tcp-stream.ts): reads the method path, classifies the connection by
   * it, and runs the bidi handler with the same meter and budgets as an HTTP/2 stream.
   */
  private async onTcpStream(socket: net.Socket, conn: Conn): Promise<void> {
    const source = socket[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const fixed = MUX_TCP_MAGIC.length + 2;
    let head: Buffer = Buffer.alloc(0);
    // The connection's headersTimeoutMs (armed in accept) destroys the socket if this stalls.
    while (head.length < fixed || head.length < fixed + head.readUInt16BE(MUX_TCP_MAGIC.length)) {
      if (head.length >= fixed && head.readUInt16BE(MUX_TCP_MAGIC.length) > MAX_PATH_BYTES) {
        socket.end(
          encodeEndEnvelope(new ConnectError("method path too long", Code.InvalidArgument)),
        );
        return;
      }
      const r = await source.next();
      if (r.done === true) return;
      head = head.length === 0 ? r.value : Buffer.concat([head, r.value]);
    }
    const pathBytes = head.readUInt16BE(MUX_TCP_MAGIC.length);
    const path = head.toString("utf8", fixed, fixed + pathBytes);
    const rest = head.subarray(fixed + pathBytes);
    const route = this.routeTable.get(path);
    if (route?.bidi === undefined) {
      socket.end(
        encodeEndEnvelope(
          new ConnectError(`no bidi streaming method at "${path}"`, Code.Unimplemented),
        ),
      );
      return;
    }
    const cls = this.classes[route.cls];
    const refusal = this.identify(conn, cls);
    if (refusal !== undefined) {
      socket.end(encodeEndEnvelope(refusal));
      return;
    }
    conn.streams++;
    const charge = new Charge(conn.budget === undefined ? [cls.budget] : [conn.budget, cls.budget]);
    const ended = new AbortController();
    socket.once("close", () => {
      conn.streams--;
      ended.abort(new ConnectError("the connection closed", Code.Canceled));
      charge.releaseAll();
    });
    let restSent = rest.length === 0;
    const chunks: AsyncIterator<Uint8Array> = {
      next: () => {
        if (restSent) return source.next();
        restSent = true;
        return Promise.resolve({ done: false, value: rest });
      },
      // Not the socket's own return(), which destroys it: the end envelope has yet to go out.
      return: async () => ({ done: true, value: undefined }),
    };
    const method = route.method as DescMethod & { input: DescMessage; output: DescMessage };
    const meter = new RequestMeter({
      source: chunks,
      charge,
      readMaxBytes: cls.limits.readMaxBytes,
      streaming: true,
      enveloped: true,
      format: "binary",
      input: method.input,
      contentLength: undefined,
      compressed: false,
      bodyTimeoutMs: undefined,
      signal: ended.signal,
      trafficClass: cls.name,
      onRefused: () => {
        this.refusedRequests++;
      },
    });
    const values = createContextValues();
    values.set(drainSignalKey, this.drain.signal);
    values.set(streamMeterKey, meter);
    const ctx = createHandlerContext({
      service: method.parent,
      method,
      protocolName: "distkv-mux-tcp",
      requestMethod: "POST",
      url: path,
      shutdownSignal: this.shutdown.signal,
      requestSignal: ended.signal,
      contextValues: values,
    });
    let error: ConnectError | undefined;
    try {
      const requests = decodeTcpRequests(meter, method.input, cls.limits.readMaxBytes);
      for await (const reply of route.bidi(requests, ctx)) {
        if (socket.destroyed) break;
        const message = isMessage(reply, method.output)
          ? reply
          : create(method.output, reply as Record<string, unknown>);
        const frame = messageEnvelope(method.output, message);
        // Response bytes count against the budgets until they are written (as chargeWrites).
        const n = frame.length;
        charge.forceCharge(n);
        if (!socket.write(frame, () => charge.release(n))) await drained(socket);
      }
    } catch (err) {
      error = ConnectError.from(err);
    }
    if (!socket.destroyed) socket.end(encodeEndEnvelope(error));
  }

  private onSession(session: http2.ServerHttp2Session): void {
    const o = this.options;
    this.sessions.add(session);
    session.on("close", () => this.sessions.delete(session));
    session.on("error", (err) => o.onError?.(err));
    const conn = this.accepting;
    if (conn !== undefined) {
      conn.session = session;
      this.sessionConns.set(session, conn);
      session.on("stream", (stream: http2.ServerHttp2Stream) => {
        conn.streams++;
        if (conn.cls !== undefined) clearTimeout(conn.timer);
        stream.once("close", () => {
          conn.streams--;
          if (conn.streams === 0 && conn.cls !== undefined) this.armIdle(conn);
        });
      });
    }
    if (this.stopping !== undefined) session.close();
  }

  private armIdle(conn: Conn): void {
    clearTimeout(conn.timer);
    conn.timer = setTimeout(() => {
      if (conn.streams === 0) conn.session?.close();
    }, this.options.idleTimeoutMs);
  }

  /** Makes a pending connection a connection of `cls`, or says why it cannot be. */
  private identify(conn: Conn, cls: ClassState): ConnectError | undefined {
    if (conn.cls !== undefined) return undefined;
    if (cls.connections.size >= cls.limits.maxConnections) {
      this.refusedConnections++;
      return new ConnectError(
        `the server has its maximum of ${cls.limits.maxConnections} ${cls.name} connections open; retry later`,
        Code.ResourceExhausted,
      );
    }
    conn.cls = cls;
    conn.budget = new ByteBudget("the limit per connection", cls.limits.maxConnectionInFlightBytes);
    cls.connections.add(conn);
    this.pending.delete(conn);
    clearTimeout(conn.timer);
    conn.timer = undefined;
    return undefined;
  }

  private onRequest(
    req: NodeServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ): void {
    const isH2 = "stream" in req;
    const conn = isH2
      ? this.sessionConns.get(
          (req as http2.Http2ServerRequest).stream.session as http2.ServerHttp2Session,
        )
      : this.conns.get(req.socket as net.Socket);
    const route = this.routeTable.get((req.url ?? "").split("?", 1)[0] ?? "");
    const cls = this.classes[route?.cls ?? "client"];
    const refusal = conn === undefined ? undefined : this.identify(conn, cls);
    let closing = false;
    const close = (wholeConnection: boolean): void => {
      if (closing) return;
      closing = true;
      this.closeAfter(req, res, wholeConnection);
    };
    if (refusal !== undefined) close(true);
    if (route === undefined) {
      // Connect answers 404 without reading the body.
      this.handler(req, res);
      return;
    }
    const budgets = conn?.budget === undefined ? [cls.budget] : [conn.budget, cls.budget];
    const charge = new Charge(budgets);
    const ended = new AbortController();
    const kind = route.method.methodKind;
    const streaming = kind === "client_streaming" || kind === "bidi_streaming";
    const contentType = String(req.headers["content-type"] ?? "").toLowerCase();
    const enveloped =
      contentType.startsWith("application/grpc") || contentType.startsWith("application/connect+");
    const encoding = enveloped
      ? (req.headers["grpc-encoding"] ?? req.headers["connect-content-encoding"])
      : req.headers["content-encoding"];
    const source = (req as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    const meter = new RequestMeter({
      source,
      charge,
      readMaxBytes: cls.limits.readMaxBytes,
      streaming,
      enveloped,
      format: contentType.includes("json") ? "json" : "binary",
      input: route.method.input,
      contentLength: contentLengthOf(req),
      compressed: typeof encoding === "string" && encoding !== "identity",
      bodyTimeoutMs: streaming ? undefined : this.options.requestTimeoutMs,
      signal: ended.signal,
      trafficClass: cls.name,
      onRefused: () => {
        this.refusedRequests++;
        close(false);
      },
    });
    if (refusal !== undefined) meter.refuse(refusal);
    Object.defineProperty(req, Symbol.asyncIterator, {
      configurable: true,
      value: () => meter[Symbol.asyncIterator](),
    });
    this.chargeWrites(res, charge);
    res.once("close", () => {
      ended.abort(new ConnectError("the request ended", Code.Canceled));
      charge.releaseAll();
    });
    if (streaming) this.meters.set(req, meter);
    const { refused, ready } = meter.prepare();
    // Connect allocates a buffer of the Content-Length before reading a refused body.
    if (refused) delete req.headers["content-length"];
    if (ready === undefined) this.handler(req, res);
    else void ready.then(() => this.handler(req, res));
  }

  /** Response bytes count against the request's budgets until they are written. */
  private chargeWrites(res: http.ServerResponse | http2.Http2ServerResponse, charge: Charge): void {
    const target = res as unknown as { write: (...args: unknown[]) => boolean };
    const write = target.write.bind(res);
    target.write = (chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
      const n =
        typeof chunk === "string"
          ? Buffer.byteLength(chunk)
          : chunk instanceof Uint8Array
            ? chunk.byteLength
            : 0;
      charge.forceCharge(n);
      const callback = typeof encoding === "function" ? encoding : cb;
      let released = false;
      const done = (err?: unknown): void => {
        if (!released) {
          released = true;
          charge.release(n);
        }
        if (typeof callback === "function") callback(err);
      };
      return typeof encoding === "function" ? write(chunk, done) : write(chunk, encoding, done);
    };
  }

  /**
   * After a refusal: HTTP/1 closes the connection once the answer is out. HTTP/2 needs
   * nothing when the meter drained the body (the usual case); if the client is still sending
   * (a body past readMaxBytes, or past its deadline), the stream is reset with NO_ERROR a
   * moment after the answer (RFC 9113 8.1: "stop sending"), so its unread bytes stop holding
   * the connection's flow-control window; the delay lets gRPC trailers, which Node sends on a
   * later tick, go out first. `wholeConnection`: a refused connection, which gets GOAWAY too.
   */
  private closeAfter(
    req: NodeServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
    wholeConnection: boolean,
  ): void {
    if (!("stream" in req)) {
      const r = res as http.ServerResponse;
      if (!r.headersSent) r.setHeader("connection", "close");
      else res.once("finish", () => req.socket.end());
      return;
    }
    const stream = req.stream;
    const afterAnswer = (): void => {
      if (wholeConnection) stream.session?.close();
      if (stream.closed || req.readableEnded) return;
      const timer = setTimeout(() => {
        if (!stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
      }, RESET_DELAY_MS);
      timer.unref();
      stream.once("close", () => clearTimeout(timer));
    };
    // Http2ServerResponse's own "finish" only comes when the stream closes.
    if (stream.writableFinished) afterAnswer();
    else stream.once("finish", afterAnswer);
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
    // Stops the http server's timeout checker (and closes its idle connections).
    this.h1.close();
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

/** The request messages of a mux-tcp stream, from its meter's bytes (one message at a time). */
async function* decodeTcpRequests(
  meter: RequestMeter,
  input: DescMessage,
  readMaxBytes: number,
): AsyncGenerator<unknown> {
  const splitter = new EnvelopeSplitter(readMaxBytes, "request");
  for await (const chunk of meter) {
    for (const env of splitter.push(chunk)) {
      if ((env.flags & FLAG_END_STREAM) !== 0) return;
      if (env.flags !== 0) {
        throw new ConnectError(`unsupported envelope flags ${env.flags}`, Code.InvalidArgument);
      }
      yield decodeMessage(input, env.body);
    }
  }
  if (splitter.pendingBytes > 0) {
    throw new ConnectError(
      `the stream ended inside a message (${splitter.pendingBytes} bytes of at least ${ENVELOPE_HEADER_BYTES})`,
      Code.InvalidArgument,
    );
  }
}
