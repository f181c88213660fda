// Raw HTTP/1.1 and HTTP/2 requests for tests that must send what no well-behaved client
// would: bodies that are not protobuf, envelopes that lie about their length, streams that
// stop halfway. Answers are decoded into a protocol-neutral status.
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { Code } from "@connectrpc/connect";
import { defer } from "./harness.js";

export interface RawAnswer {
  status: number;
  headers: http2.IncomingHttpHeaders | http.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
  /** HTTP/2: the stream's reset code when it ended without a full answer. */
  rstCode: number | undefined;
}

/** An HTTP/2 session to the server, closed after the test. */
export function h2Session(url: string): http2.ClientHttp2Session {
  const session = http2.connect(url);
  session.on("error", () => {});
  defer(() => session.destroy());
  return session;
}

/**
 * One HTTP/2 request. `body` is written as given (pieces in order); with `end: false` the
 * request stays open after it. Resolves when the answer is complete or the stream is reset.
 */
export function h2Request(
  session: http2.ClientHttp2Session,
  path: string,
  headers: http2.OutgoingHttpHeaders,
  body: Uint8Array | Uint8Array[],
  options: { end?: boolean } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const stream = session.request({ ":method": "POST", ":path": path, ...headers });
    const answer: RawAnswer = {
      status: 0,
      headers: {},
      trailers: {},
      body: Buffer.alloc(0),
      rstCode: undefined,
    };
    const chunks: Buffer[] = [];
    let settled = false;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      answer.body = Buffer.concat(chunks);
      if (answer.status === 0) answer.rstCode = stream.rstCode;
      resolve(answer);
    };
    stream.on("response", (h) => {
      answer.status = Number(h[":status"]);
      answer.headers = h;
    });
    stream.on("trailers", (t) => {
      answer.trailers = t;
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", settle);
    stream.on("close", settle);
    stream.on("error", settle);
    for (const piece of Array.isArray(body) ? body : [body]) stream.write(piece);
    if (options.end !== false) stream.end();
  });
}

/** One HTTP/1.1 request on its own connection. */
export function h1Request(
  port: number,
  path: string,
  headers: http.OutgoingHttpHeaders,
  body: Uint8Array,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method: "POST", path, agent: false, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            trailers: {},
            body: Buffer.concat(chunks),
            rstCode: undefined,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** A gRPC / Connect-streaming envelope: flags, a big-endian length (declared), payload. */
export function envelope(
  payload: Uint8Array,
  flags = 0,
  declaredLength = payload.length,
): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, declaredLength);
  out.set(payload, 5);
  return out;
}

/** Splits a gRPC response body into envelope payloads (ignores trailing partial bytes). */
export function unenvelope(body: Uint8Array): { flags: number; payload: Uint8Array }[] {
  const out: { flags: number; payload: Uint8Array }[] = [];
  let i = 0;
  while (i + 5 <= body.length) {
    const len = new DataView(body.buffer, body.byteOffset + i + 1, 4).getUint32(0);
    if (i + 5 + len > body.length) break;
    out.push({ flags: body[i]!, payload: body.subarray(i + 5, i + 5 + len) });
    i += 5 + len;
  }
  return out;
}

const codeNames = new Map<string, Code>(
  Object.entries(Code)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => [
      k.replace(/[A-Z]/g, (c, i) => (i === 0 ? "" : "_") + c.toLowerCase()),
      v as Code,
    ]),
);

/**
 * The status of an answer in any protocol: gRPC `grpc-status` (trailers, or headers for a
 * trailers-only answer), Connect unary JSON errors, or OK for a Connect 200. Undefined when
 * there is no answer at all (a reset stream).
 */
export function statusOf(a: RawAnswer): { code: Code | 0; message: string } | undefined {
  const grpc = a.trailers["grpc-status"] ?? a.headers["grpc-status"];
  if (grpc !== undefined) {
    const message = String(a.trailers["grpc-message"] ?? a.headers["grpc-message"] ?? "");
    return { code: Number(grpc) as Code | 0, message: decodeURIComponent(message) };
  }
  if (a.status === 0) return undefined;
  if (a.status === 200) return { code: 0, message: "" };
  try {
    const j = JSON.parse(a.body.toString()) as { code?: string; message?: string };
    const code = codeNames.get(j.code ?? "");
    if (code !== undefined) return { code, message: j.message ?? "" };
  } catch {
    // Not a Connect error body.
  }
  return { code: Code.Unknown, message: `HTTP ${a.status}` };
}

/** Opens a raw TCP connection to the server, closed after the test. */
export function rawSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.on("error", reject);
    defer(() => s.destroy());
  });
}

/** Resolves when the socket closes. */
export function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once("close", () => resolve());
  });
}

/** Protobuf wire helpers for hand-built messages. */
export function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** A length-delimited field: tag, length, bytes. */
export function lengthField(fieldNo: number, bytes: Uint8Array | number[]): Uint8Array {
  const b = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  return Uint8Array.from([...varint(fieldNo * 8 + 2), ...varint(b.length), ...b]);
}

/** A varint field. */
export function varintField(fieldNo: number, value: number): Uint8Array {
  return Uint8Array.from([...varint(fieldNo * 8), ...varint(value)]);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}
