import * as net from "node:net";
/**
 * The HTTP/2 transport under a mux stream. Each channel owns its own HTTP/2 session (one TCP
 * connection per peer pair, as DESIGN.md wants) through a session manager it can close, and
 * sets no default timeout: the stream lives for as long as the channel.
 */
import type { DescMethodBiDiStreaming, DescService, MessageShape } from "@bufbuild/protobuf";
import { createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  Http2SessionManager,
  type Http2SessionOptions,
} from "@connectrpc/connect-node";
import { normalizeBaseUrl } from "./client.js";
import type { MuxStreamOpener } from "./mux-client.js";
import { createTcpStreamOpener, tcpTargetOf } from "./tcp-stream.js";

export interface StreamTransportOptions {
  /** `http://host:port` or `host:port`. */
  baseUrl: string;
  /**
   * What carries the stream: "tcp" is the mux-tcp protocol (tcp-stream.ts: length-prefixed
   * protobuf messages on a plain TCP connection to the same port, several times cheaper per
   * message); "http2" a Connect/gRPC bidi stream over h2c, for servers other than
   * createDistKVServer. `protocol` and `http2` apply to "http2" only; "tcp" detects a dead
   * peer by TCP keepalive (probes after 10 s idle) and by each call's deadline.
   * @default "tcp"
   */
  transport?: "tcp" | "http2";
  /**
   * Wire protocol of the stream; both run over HTTP/2 (h2c for http URLs).
   * @default "grpc"
   */
  protocol?: "connect" | "grpc";
  /**
   * HTTP/2 keepalive: a PING every `pingIntervalMs` without inbound data; no answer within
   * `pingTimeoutMs` fails the connection and so the stream (pending calls get UNAVAILABLE).
   * @default { pingIntervalMs: 10000, pingTimeoutMs: 5000 }
   */
  http2?: Http2SessionOptions;
  interceptors?: Interceptor[];
  /**
   * Per-message receive limit of the client.
   * @default 16 MiB
   */
  readMaxBytes?: number;
}

export const DEFAULT_STREAM_PING_INTERVAL_MS = 10_000;
export const DEFAULT_STREAM_PING_TIMEOUT_MS = 5_000;
export const DEFAULT_STREAM_READ_MAX_BYTES = 16 * 1024 * 1024;

export interface StreamTransport {
  readonly baseUrl: string;
  readonly transport: Transport;
  /** Closes the HTTP/2 session and every stream on it. */
  close(reason?: Error): void;
}

export function createStreamTransport(options: StreamTransportOptions): StreamTransport {
  const baseUrl = normalizeBaseUrl(options.baseUrl);
  const sessionManager = new Http2SessionManager(
    baseUrl,
    {
      pingIntervalMs: DEFAULT_STREAM_PING_INTERVAL_MS,
      pingTimeoutMs: DEFAULT_STREAM_PING_TIMEOUT_MS,
      ...options.http2,
    },
    {
      // Nagle's algorithm held back small HTTP/2 frames on the peer stream until the previous
      // segment was acknowledged: a replica write took ~5 ms at one call in flight instead of ~1.
      createConnection: (authority: URL) => {
        const socket = net.connect({
          host: authority.hostname.replace(/^\[(.*)\]$/, "$1"),
          port: Number(authority.port || (authority.protocol === "https:" ? 443 : 80)),
        });
        socket.setNoDelay(true);
        return socket;
      },
    },
  );
  const common = {
    baseUrl,
    httpVersion: "2" as const,
    useBinaryFormat: true,
    sessionManager,
    interceptors: options.interceptors ?? [],
    readMaxBytes: options.readMaxBytes ?? DEFAULT_STREAM_READ_MAX_BYTES,
    // Coalesced frames exceed Connect's 1 KiB compression threshold, and gzip on every stream
    // message cost more CPU than anything else in a node's profile; peers sit on a LAN or
    // loopback, where bytes are cheap and CPU is not.
    acceptCompression: [],
  };
  const transport =
    (options.protocol ?? "grpc") === "grpc"
      ? createGrpcTransport(common)
      : createConnectTransport(common);
  return {
    baseUrl,
    transport,
    close: (reason) => sessionManager.abort(reason),
  };
}

/** A mux stream opener for one bidi method, over the transport `options` choose. */
export interface MuxStreamConnection<I, O> {
  readonly baseUrl: string;
  readonly open: MuxStreamOpener<I, O>;
  /** Closes the connection under the stream (HTTP/2: its session; TCP: the stream does). */
  close(reason?: Error): void;
}

export function createMuxStreamConnection<S extends DescService, M extends DescMethodBiDiStreaming>(
  options: StreamTransportOptions,
  service: S,
  method: M,
): MuxStreamConnection<MessageShape<M["input"]>, MessageShape<M["output"]>> {
  if ((options.transport ?? "tcp") === "tcp") {
    const baseUrl = normalizeBaseUrl(options.baseUrl);
    return {
      baseUrl,
      open: createTcpStreamOpener({
        target: tcpTargetOf(baseUrl),
        path: `/${service.typeName}/${method.name}`,
        input: method.input,
        output: method.output,
        readMaxBytes: options.readMaxBytes ?? DEFAULT_STREAM_READ_MAX_BYTES,
      }) as unknown as MuxStreamOpener<MessageShape<M["input"]>, MessageShape<M["output"]>>,
      close: () => {},
    };
  }
  const stream = createStreamTransport(options);
  const client = createClient(service, stream.transport) as unknown as Record<
    string,
    (
      requests: AsyncIterable<MessageShape<M["input"]>>,
      o: { signal: AbortSignal },
    ) => AsyncIterable<MessageShape<M["output"]>>
  >;
  const call = client[method.localName]!;
  return {
    baseUrl: stream.baseUrl,
    open: (requests, signal) => call(requests, { signal }),
    close: (reason) => stream.close(reason),
  };
}
