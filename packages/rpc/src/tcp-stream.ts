/**
 * Mux streams over plain TCP ("mux-tcp"), on the same port as HTTP: the same calls, replies,
 * limits and deadlines as the HTTP/2 bidi stream, without HTTP/2 framing and Connect's stream
 * plumbing, which cost more CPU per message than everything else on a busy node (see
 * docs/benchmarks.md). DESIGN.md measured ~21,000 msg/s for a Connect bidi stream against
 * ~100,000 for raw TCP with pipelining on this machine.
 *
 * Wire (all integers big-endian):
 *   client -> server   MUX_TCP_MAGIC (10 bytes), u16 n, n bytes: the method path in UTF-8
 *                      ("/distkv.v1.KVService/Pipeline"), then envelopes of request messages
 *   server -> client   envelopes of response messages, then one end envelope
 *   envelope           u8 flags, u32 length, length bytes: the gRPC/Connect envelope, so the
 *                      server's request meter (request-meter.ts) charges and scans it as it
 *                      does an HTTP/2 stream's body
 *   flags              0x00: a binary protobuf message; 0x02: end of stream: empty from the
 *                      client; from the server JSON {"code": <Connect code number, absent
 *                      when OK>, "message": "..."}
 * The client sends its end envelope when it has no more requests; the server answers the calls
 * in flight, sends its end envelope and closes the connection. The first byte of the magic is 0, which never starts an HTTP/1
 * request or the HTTP/2 preface, so the protocol sniffer tells the three apart.
 */
import * as net from "node:net";
import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { MuxStreamOpener } from "./mux-client.js";
import { fastMuxCodec } from "./mux-codec.js";

/** Identifies a mux-tcp connection; do not change (version 1 of the wire above). */
export const MUX_TCP_MAGIC = Buffer.from("\0DKVMUX1\r\n", "latin1");
export const ENVELOPE_HEADER_BYTES = 5;
export const FLAG_END_STREAM = 0x02;
/** Longest method path a client may send. */
export const MAX_PATH_BYTES = 256;

/** One envelope: header and body in a single buffer, ready to write. */
export function encodeEnvelope(flags: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(ENVELOPE_HEADER_BYTES + body.length);
  out[0] = flags;
  out.writeUInt32BE(body.length, 1);
  out.set(body, ENVELOPE_HEADER_BYTES);
  return out;
}

/**
 * A message as one envelope: the mux stream messages through their hand-written codec
 * (mux-codec.ts), anything else through protobuf-es.
 */
export function messageEnvelope(desc: DescMessage, message: unknown): Buffer {
  const framed = fastMuxCodec(desc)?.encode(message, ENVELOPE_HEADER_BYTES);
  if (framed === undefined) {
    return encodeEnvelope(0, toBinary(desc, message as MessageShape<DescMessage>));
  }
  framed[0] = 0;
  framed.writeUInt32BE(framed.length - ENVELOPE_HEADER_BYTES, 1);
  return framed;
}

/** An envelope's body decoded, as messageEnvelope encodes (unknown fields dropped). */
export function decodeMessage<D extends DescMessage>(desc: D, body: Uint8Array): MessageShape<D> {
  const fast = fastMuxCodec(desc);
  if (fast !== undefined) return fast.decode(body) as MessageShape<D>;
  return fromBinary(desc, body, { readUnknownFields: false });
}

/** The end envelope: OK without an error, else its code and message. */
export function encodeEndEnvelope(error?: ConnectError): Buffer {
  const body = error === undefined ? {} : { code: error.code as number, message: error.rawMessage };
  return encodeEnvelope(FLAG_END_STREAM, Buffer.from(JSON.stringify(body)));
}

/** The client's opening bytes for `path`. */
export function encodeStreamHeader(path: string): Buffer {
  const p = Buffer.from(path, "utf8");
  if (p.length > MAX_PATH_BYTES) throw new Error(`method path longer than ${MAX_PATH_BYTES} bytes`);
  const out = Buffer.allocUnsafe(MUX_TCP_MAGIC.length + 2 + p.length);
  MUX_TCP_MAGIC.copy(out, 0);
  out.writeUInt16BE(p.length, MUX_TCP_MAGIC.length);
  p.copy(out, MUX_TCP_MAGIC.length + 2);
  return out;
}

/**
 * Splits a byte stream into envelopes. `push` returns the complete ones; a declared length
 * above `maxBytes` throws RESOURCE_EXHAUSTED before any of its body is buffered.
 */
export class EnvelopeSplitter {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(
    private readonly maxBytes: number,
    private readonly what: string,
  ) {}

  /** Bytes received but not yet part of a complete envelope. */
  get pendingBytes(): number {
    return this.buffered.length;
  }

  push(chunk: Uint8Array): { flags: number; body: Uint8Array }[] {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let buf = this.buffered.length === 0 ? bytes : Buffer.concat([this.buffered, bytes]);
    const out: { flags: number; body: Uint8Array }[] = [];
    while (buf.length >= ENVELOPE_HEADER_BYTES) {
      const length = buf.readUInt32BE(1);
      if (length > this.maxBytes) {
        throw new ConnectError(
          `${this.what} message of ${length} bytes exceeds the limit of ${this.maxBytes} bytes`,
          Code.ResourceExhausted,
        );
      }
      if (buf.length < ENVELOPE_HEADER_BYTES + length) break;
      // A plain Uint8Array view: decoded bytes fields are views of it, and users compare
      // them with Uint8Arrays (a Buffer view would make them Buffers).
      out.push({
        flags: buf[0]!,
        body: new Uint8Array(buf.buffer, buf.byteOffset + ENVELOPE_HEADER_BYTES, length),
      });
      buf = buf.subarray(ENVELOPE_HEADER_BYTES + length);
    }
    // Keep only what is left, not the whole chunk it came in (a copy when it is small).
    this.buffered = buf.length === 0 ? Buffer.alloc(0) : buf;
    return out;
  }
}

/** Reads an end envelope's body: undefined for OK, else the error it carries. */
export function decodeEndEnvelope(body: Uint8Array): ConnectError | undefined {
  let parsed: { code?: unknown; message?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(body).toString("utf8")) as typeof parsed;
  } catch {
    return new ConnectError("malformed end of stream from the server", Code.Internal);
  }
  if (parsed.code === undefined) return undefined;
  const code =
    typeof parsed.code === "number" && Code[parsed.code] !== undefined
      ? (parsed.code as Code)
      : Code.Unknown;
  return new ConnectError(typeof parsed.message === "string" ? parsed.message : "", code);
}

export interface TcpStreamTarget {
  readonly host: string;
  readonly port: number;
}

/** `http://host:port` (or `host:port`) to where a mux-tcp connection goes. */
export function tcpTargetOf(baseUrl: string): TcpStreamTarget {
  const url = new URL(/^[a-z]+:\/\//i.test(baseUrl) ? baseUrl : `http://${baseUrl}`);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: Number(url.port || 80),
  };
}

export interface TcpStreamOpenerInit<I extends DescMessage, O extends DescMessage> {
  readonly target: TcpStreamTarget;
  /** The bidi method's path, e.g. "/distkv.v1.KVService/Pipeline". */
  readonly path: string;
  readonly input: I;
  readonly output: O;
  /** Largest response message accepted. */
  readonly readMaxBytes: number;
  /** TCP keepalive probes start after this long without traffic. @default 10000 */
  readonly keepAliveMs?: number;
}

/**
 * A MuxStreamOpener over mux-tcp: each stream is its own TCP connection, closed when the
 * stream ends or `signal` aborts. A failed connection, a close without the end envelope, or
 * an end envelope with an error ends the responses with an error (the mux client then fails
 * the calls on it and reconnects with backoff).
 */
export function createTcpStreamOpener<I extends DescMessage, O extends DescMessage>(
  init: TcpStreamOpenerInit<I, O>,
): MuxStreamOpener<MessageShape<I>, MessageShape<O>> {
  const header = encodeStreamHeader(init.path);
  return (requests, signal) => openStream(init, header, requests, signal);
}

async function* openStream<I extends DescMessage, O extends DescMessage>(
  init: TcpStreamOpenerInit<I, O>,
  header: Buffer,
  requests: AsyncIterable<MessageShape<I>>,
  signal: AbortSignal,
): AsyncGenerator<MessageShape<O>> {
  signal.throwIfAborted();
  const socket = net.connect({ host: init.target.host, port: init.target.port });
  socket.setNoDelay(true);
  socket.setKeepAlive(true, init.keepAliveMs ?? 10_000);
  const onAbort = (): void => {
    socket.destroy(signal.reason instanceof Error ? signal.reason : undefined);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  // The writer runs beside the reader; its failure closes the socket, which ends the reader.
  let writeError: unknown;
  const writer = (async () => {
    socket.write(header);
    for await (const message of requests) {
      if (socket.destroyed) return;
      if (!socket.write(messageEnvelope(init.input, message))) await drained(socket);
    }
    if (!socket.destroyed) socket.write(encodeEnvelope(FLAG_END_STREAM, new Uint8Array(0)));
  })().catch((err: unknown) => {
    writeError = err;
    socket.destroy();
  });
  const splitter = new EnvelopeSplitter(init.readMaxBytes, "response");
  try {
    for await (const chunk of socket as AsyncIterable<Buffer>) {
      for (const env of splitter.push(chunk)) {
        if ((env.flags & FLAG_END_STREAM) !== 0) {
          const err = decodeEndEnvelope(env.body);
          if (err !== undefined) throw err;
          return;
        }
        yield decodeMessage(init.output, env.body);
      }
    }
    throw new ConnectError(
      writeError === undefined
        ? "the server closed the connection without ending the stream"
        : `sending failed: ${String((writeError as Error)?.message ?? writeError)}`,
      Code.Unavailable,
    );
  } finally {
    signal.removeEventListener("abort", onAbort);
    socket.destroy();
    // The writer ends by itself once the mux client ends its requests (not awaited here: the
    // client ends them only after these responses are done).
    void writer;
  }
}

/** Resolves when `socket` can take more writes, or when it closes. */
export function drained(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.removeListener("drain", done);
      socket.removeListener("close", done);
      resolve();
    };
    socket.once("drain", done);
    socket.once("close", done);
  });
}
