// The mux-tcp protocol (tcp-stream.ts) against a real server on a loopback port: what a
// misbehaving client gets, and the envelope splitter under any chunking.
import * as net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defer, startServer } from "../test/harness.js";
import { KVService, PipelineRequestSchema } from "./gen/distkv/v1/kv_pb.js";
import { createPipelineHandler } from "./pipeline-service.js";
import { classifyPrefix } from "./protocol-sniffer.js";
import {
  decodeEndEnvelope,
  EnvelopeSplitter,
  encodeEnvelope,
  encodeStreamHeader,
  FLAG_END_STREAM,
  MUX_TCP_MAGIC,
} from "./tcp-stream.js";

/** Sends `bytes` on a new connection and collects everything until the server closes. */
function exchange(port: number, bytes: Uint8Array[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    defer(() => socket.destroy());
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks)));
    for (const b of bytes) socket.write(b);
  });
}

/** The envelopes of a server's answer; the last must be the end envelope. */
function envelopes(answer: Buffer) {
  const all = new EnvelopeSplitter(1 << 20, "test").push(answer);
  const end = all.at(-1);
  expect(end === undefined ? 0 : end.flags & FLAG_END_STREAM).toBe(FLAG_END_STREAM);
  return { messages: all.slice(0, -1), error: decodeEndEnvelope(end!.body) };
}

async function pipelineServer(options: Parameters<typeof startServer>[1] = {}) {
  return startServer(
    (r) =>
      r.service(KVService, {
        pipeline: createPipelineHandler({ get: () => ({ found: false }) }),
        put: () => ({}),
      }),
    options,
  );
}

describe("mux-tcp on the one-port server", () => {
  it("the sniffer tells the magic from HTTP/1 and the HTTP/2 preface", () => {
    for (let n = 1; n < MUX_TCP_MAGIC.length; n++) {
      expect(classifyPrefix(MUX_TCP_MAGIC.subarray(0, n))).toBeUndefined();
    }
    expect(classifyPrefix(MUX_TCP_MAGIC)).toBe("mux-tcp");
    expect(classifyPrefix(Buffer.from("\0DKVMUX2"))).toBe("http1");
    expect(classifyPrefix(Buffer.from("POST / HTTP/1.1\r\n"))).toBe("http1");
  });

  it("answers a method that is not a bidi stream with UNIMPLEMENTED and closes", async () => {
    const server = await pipelineServer();
    for (const path of ["/distkv.v1.KVService/Put", "/nope/Nope"]) {
      const { messages, error } = envelopes(
        await exchange(server.port, [encodeStreamHeader(path)]),
      );
      expect(messages).toEqual([]);
      expect(error?.code).toBe(Code.Unimplemented);
    }
  });

  it("refuses a message declared past readMaxBytes before reading its body", async () => {
    const server = await pipelineServer({ readMaxBytes: 1024 });
    const header = Buffer.alloc(5);
    header.writeUInt32BE(64 * 1024 * 1024, 1); // 64 MiB announced, never sent
    const { error } = envelopes(
      await exchange(server.port, [encodeStreamHeader("/distkv.v1.KVService/Pipeline"), header]),
    );
    expect(error?.code).toBe(Code.ResourceExhausted);
    expect(server.usage().inFlightBytes.client).toBe(0);
  });

  it("answers a message that is not protobuf with INVALID_ARGUMENT", async () => {
    const server = await pipelineServer();
    const { error } = envelopes(
      await exchange(server.port, [
        encodeStreamHeader("/distkv.v1.KVService/Pipeline"),
        encodeEnvelope(0, Uint8Array.of(0xff, 0xff, 0xff)),
      ]),
    );
    expect(error?.code).toBe(Code.InvalidArgument);
  });

  it("serves a well-formed stream and ends it cleanly after the client's end envelope", async () => {
    const server = await pipelineServer();
    const call = toBinary(
      PipelineRequestSchema,
      create(PipelineRequestSchema, {
        calls: [
          { id: 1, timeoutMs: 1000, body: { case: "get", value: { key: Buffer.from("k") } } },
        ],
      }),
    );
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port: server.port });
      defer(() => socket.destroy());
      const chunks: Buffer[] = [];
      socket.on("data", (c: Buffer) => chunks.push(c));
      socket.on("error", reject);
      socket.on("close", () => resolve(Buffer.concat(chunks)));
      socket.write(
        Buffer.concat([
          encodeStreamHeader("/distkv.v1.KVService/Pipeline"),
          encodeEnvelope(0, call),
          encodeEnvelope(FLAG_END_STREAM, new Uint8Array(0)),
        ]),
      );
    });
    const { messages, error } = envelopes(answer);
    expect(error).toBeUndefined();
    // The empty "established" message, then the reply to call 1 (perhaps coalesced).
    expect(messages.length).toBeGreaterThanOrEqual(2);
  });
});

describe("EnvelopeSplitter", () => {
  it("returns the same envelopes however the bytes are cut", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (bodies, cuts) => {
          const wire = Buffer.concat(bodies.map((b) => encodeEnvelope(0, b)));
          const splitter = new EnvelopeSplitter(1000, "test");
          const got: Uint8Array[] = [];
          let i = 0;
          let c = 0;
          while (i < wire.length) {
            const n = cuts[c++ % cuts.length]!;
            for (const env of splitter.push(wire.subarray(i, i + n))) got.push(env.body);
            i += n;
          }
          expect(got.map((b) => Buffer.from(b).toString("hex"))).toEqual(
            bodies.map((b) => Buffer.from(b).toString("hex")),
          );
          expect(splitter.pendingBytes).toBe(0);
        },
      ),
    );
  });

  it("throws RESOURCE_EXHAUSTED on a declared length past its limit", () => {
    const header = Buffer.alloc(5);
    header.writeUInt32BE(1001, 1);
    expect(() => new EnvelopeSplitter(1000, "test").push(header)).toThrow(/exceeds the limit/);
  });
});
