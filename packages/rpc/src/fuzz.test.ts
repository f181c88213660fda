// Malformed input against a real server on a loopback port: property-based bodies for the
// public API and the peer protocol, hand-written broken envelopes and frames, and garbage at
// the transport level. The server must answer with a clear status, never hand a handler a
// message it did not fully decode, and stay up.
import type * as http2 from "node:http2";
import type { DescMessage } from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { defer, eventually, gate } from "../test/harness.js";
import {
  closed,
  concat,
  envelope,
  h1Request,
  h2Request,
  h2Session,
  lengthField,
  rawSocket,
  statusOf,
  unenvelope,
  varintField,
} from "../test/raw.js";
import { createDistKVClient } from "./client.js";
import {
  ClusterService,
  DecommissionRequestSchema,
  KVService,
  PutRequestSchema,
} from "./gen/distkv/v1/kv_pb.js";
import {
  type ChannelRequest,
  ChannelRequestSchema,
  ChannelResponseSchema,
  ReplicaWriteRequestSchema,
} from "./gen/distkv/v1/peer_pb.js";
import { registerPeerService } from "./peer-service.js";
import { createPipelineHandler } from "./pipeline-service.js";
import { HTTP2_PREFACE } from "./protocol-sniffer.js";
import { createDistKVServer, type DistKVServer } from "./server.js";

const READ_MAX = 64 * 1024;
const GRPC = { "content-type": "application/grpc", te: "trailers" } as const;

/** What the handlers were handed, re-encoded. */
const seen: { type: string; bytes: Uint8Array }[] = [];
const record = (desc: DescMessage, msg: never): void => {
  seen.push({ type: desc.typeName, bytes: toBinary(desc, msg) });
};
let releaseSlowWrite = gate();

let server: DistKVServer;
beforeAll(async () => {
  server = createDistKVServer({
    readMaxBytes: READ_MAX,
    routes: (r) => {
      r.service(KVService, {
        put: (req) => {
          record(PutRequestSchema, req as never);
          return {};
        },
        pipeline: createPipelineHandler({
          put: (req) => {
            record(PutRequestSchema, req as never);
            return {};
          },
        }),
      });
      r.service(ClusterService, {
        decommission: (req) => {
          record(DecommissionRequestSchema, req as never);
          return { nodeId: req.nodeId };
        },
      });
      registerPeerService(r, {
        replicaWrite: async (req) => {
          record(ReplicaWriteRequestSchema, req as never);
          if (req.key[0] === 0x73) await releaseSlowWrite.promise; // "s": a slow write
          return {};
        },
      });
    },
  });
  await server.start();
  return () => server.stop({ gracePeriodMs: 0 });
});

/** Whether protobuf-es decodes the bytes (as the server does, unknown fields dropped). */
function decode(desc: DescMessage, bytes: Uint8Array): Uint8Array | undefined {
  try {
    return toBinary(desc, fromBinary(desc, bytes, { readUnknownFields: false }));
  } catch {
    return undefined;
  }
}

/** Random bytes, and valid PutRequests with a few bytes set, cut or inserted. */
const putBodies = fc.oneof(
  fc.uint8Array({ maxLength: 80 }),
  fc
    .tuple(
      fc.record({ key: fc.uint8Array({ maxLength: 8 }), value: fc.uint8Array({ maxLength: 40 }) }),
      fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.boolean()), { maxLength: 3 }),
    )
    .map(([init, edits]) => {
      let b = toBinary(PutRequestSchema, create(PutRequestSchema, init));
      for (const [at, v, cut] of edits) {
        if (b.length === 0) break;
        if (cut) b = b.subarray(0, at % b.length);
        else b[at % b.length] = v;
      }
      return b;
    }),
);

/**
 * The contract for one body: an answer of OK exactly when the bytes decode, and then the
 * handler got exactly the decoded message; INVALID_ARGUMENT otherwise, and no handler call.
 */
function checkAnswer(body: Uint8Array, status: { code: number } | undefined): void {
  const expected = decode(PutRequestSchema, body);
  const handed = seen.splice(0);
  if (expected === undefined) {
    expect(status?.code).toBe(Code.InvalidArgument);
    expect(handed).toEqual([]);
  } else {
    expect(status?.code).toBe(0);
    expect(handed).toEqual([{ type: "distkv.v1.PutRequest", bytes: expected }]);
  }
}

describe("fuzzing the public API", () => {
  it("random and damaged protobuf bodies over gRPC (HTTP/2)", async () => {
    const session = h2Session(server.url);
    await fc.assert(
      fc.asyncProperty(putBodies, async (body) => {
        const a = await h2Request(session, "/distkv.v1.KVService/Put", GRPC, envelope(body));
        checkAnswer(body, statusOf(a));
      }),
      { numRuns: 150 },
    );
  });

  it("random and damaged protobuf bodies over Connect (HTTP/1.1)", async () => {
    await fc.assert(
      fc.asyncProperty(putBodies, async (body) => {
        const a = await h1Request(
          server.port,
          "/distkv.v1.KVService/Put",
          { "content-type": "application/proto" },
          body,
        );
        checkAnswer(body, statusOf(a));
      }),
      { numRuns: 150 },
    );
  });

  it("random JSON and text as Connect JSON bodies", async () => {
    const text = fc.oneof(
      fc.json({ maxDepth: 3 }),
      fc.string({ maxLength: 40 }),
      fc
        .record({ key: fc.base64String({ maxLength: 12 }), value: fc.string() })
        .map((o) => JSON.stringify(o)),
    );
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        const a = await h1Request(
          server.port,
          "/distkv.v1.KVService/Put",
          { "content-type": "application/json" },
          Buffer.from(t),
        );
        const status = statusOf(a);
        const handed = seen.splice(0);
        expect([0, Code.InvalidArgument]).toContain(status?.code);
        expect(handed.length).toBe(status?.code === 0 ? 1 : 0);
      }),
      { numRuns: 100 },
    );
  });

  // Each case: a request that should never reach a handler, and the answer it must get.
  const put = toBinary(PutRequestSchema, create(PutRequestSchema, { key: Buffer.from("k") }));
  const cases: [string, http2.OutgoingHttpHeaders, Uint8Array, Code | number][] = [
    [
      "a truncated envelope",
      GRPC,
      envelope(put.subarray(0, 2), 0, put.length),
      Code.InvalidArgument,
    ],
    [
      "a partial second envelope",
      GRPC,
      concat(envelope(put), Uint8Array.from([0, 0])),
      Code.InvalidArgument,
    ],
    [
      "a message over readMaxBytes",
      GRPC,
      envelope(new Uint8Array(10), 0, READ_MAX + 1),
      Code.ResourceExhausted,
    ],
    ["a compressed flag without an encoding", GRPC, envelope(put, 1), Code.InvalidArgument],
    [
      "a compression the server does not accept",
      { ...GRPC, "grpc-encoding": "gzip" },
      envelope(put, 1),
      Code.Unimplemented,
    ],
    [
      "two messages for a unary method",
      GRPC,
      concat(envelope(put), envelope(put)),
      Code.Unimplemented,
    ],
    ["no message at all", GRPC, new Uint8Array(0), Code.Unimplemented],
    [
      "a tag with field number 0",
      GRPC,
      envelope(Uint8Array.from([0x00, 0x01])),
      Code.InvalidArgument,
    ],
    [
      "unknown groups nested 150 deep",
      GRPC,
      envelope(new Uint8Array(150).fill(0x7b)),
      Code.InvalidArgument,
    ],
    [
      "a length past the end",
      GRPC,
      envelope(Uint8Array.from([0x0a, 0x7f, 0x01])),
      Code.InvalidArgument,
    ],
    ["a text/plain body", { "content-type": "text/plain" }, put, 415],
  ];
  for (const [name, headers, body, expected] of cases) {
    it(`answers ${typeof expected === "number" && expected > 100 ? `HTTP ${expected}` : Code[expected]} to ${name}`, async () => {
      const a = await h2Request(h2Session(server.url), "/distkv.v1.KVService/Put", headers, body);
      if (expected > 100) expect(a.status).toBe(expected);
      else expect(statusOf(a)?.code).toBe(expected);
      expect(seen.splice(0)).toEqual([]);
    });
  }

  it("answers a 4 GiB declared length at once, without waiting for or allocating it", async () => {
    const before = process.memoryUsage();
    const a = await h2Request(
      h2Session(server.url),
      "/distkv.v1.KVService/Put",
      GRPC,
      envelope(new Uint8Array(10), 0, 0xffff_ffff),
      { end: false },
    );
    expect(statusOf(a)).toEqual({
      code: Code.ResourceExhausted,
      message: `message size 4294967295 is larger than configured readMaxBytes ${READ_MAX}`,
    });
    const after = process.memoryUsage();
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(64 * 1024 * 1024);
  });

  it("rejects invalid UTF-8 in a string field with INVALID_ARGUMENT, in every protocol", async () => {
    const bad = lengthField(1, [0x61, 0xc3, 0x28]);
    const viaGrpc = await h2Request(
      h2Session(server.url),
      "/distkv.v1.ClusterService/Decommission",
      GRPC,
      envelope(bad),
    );
    const viaConnect = await h1Request(
      server.port,
      "/distkv.v1.ClusterService/Decommission",
      { "content-type": "application/proto" },
      bad,
    );
    for (const a of [viaGrpc, viaConnect]) {
      expect(statusOf(a)).toEqual({
        code: Code.InvalidArgument,
        message:
          "the request is not a valid distkv.v1.DecommissionRequest: invalid UTF-8 in the string starting at byte 2",
      });
    }
    expect(seen.splice(0)).toEqual([]);
  });

  it("rejects JSON nested 20,000 deep with INVALID_ARGUMENT", async () => {
    const deep = `{"key":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
    const a = await h1Request(
      server.port,
      "/distkv.v1.KVService/Put",
      { "content-type": "application/json" },
      Buffer.from(deep),
    );
    expect(statusOf(a)?.code).toBe(Code.InvalidArgument);
    expect(seen.splice(0)).toEqual([]);
  });
});

/** Encodes call frames of the peer channel. */
function channel(calls: object[]): Uint8Array {
  return toBinary(ChannelRequestSchema, create(ChannelRequestSchema, { calls } as never));
}

/** Sends stream messages on PeerService.Channel, half-closes, and returns the replies. */
async function peerSession(messages: Uint8Array[]) {
  const a = await h2Request(
    h2Session(server.url),
    "/distkv.v1.PeerService/Channel",
    GRPC,
    messages.map((m) => envelope(m)),
  );
  const replies = unenvelope(a.body).flatMap((e) =>
    fromBinary(ChannelResponseSchema, e.payload).replies.map((r) => ({
      id: r.id,
      kind: r.body.case,
      code: r.body.case === "error" ? r.body.value.code : 0,
    })),
  );
  return { status: statusOf(a), replies };
}

describe("fuzzing the peer channel (mux frames)", () => {
  it("answers an unknown call kind with INVALID_ARGUMENT and a kind with no handler with UNIMPLEMENTED", async () => {
    // Call 1: field 99 in the body oneof (unknown to this proto). Call 2: replica_read (no
    // handler registered). Call 3: a ping, answered by the built-in handler.
    const unknownKind = lengthField(1, concat(varintField(1, 1), lengthField(99, [])));
    const r = await peerSession([
      concat(unknownKind, channel([{ id: 2, body: { case: "replicaRead", value: {} } }])),
      channel([{ id: 3, body: { case: "ping", value: {} } }]),
    ]);
    expect(r.status?.code).toBe(0);
    expect(r.replies).toEqual([
      { id: 1, kind: "error", code: Code.InvalidArgument },
      { id: 2, kind: "error", code: Code.Unimplemented },
      { id: 3, kind: "ping", code: 0 },
    ]);
  });

  it("refuses a duplicate id while the first call runs, and ignores cancels for unknown ids", async () => {
    releaseSlowWrite = gate();
    const slow = { case: "replicaWrite", value: { key: Buffer.from("s") } };
    const pending = peerSession([
      channel([
        { id: 7, body: slow },
        { id: 7, body: slow },
        { id: 12345, cancel: true },
        { id: 8, body: { case: "ping", value: {} } },
      ]),
    ]);
    await eventually(() => seen.length === 1);
    releaseSlowWrite.open();
    const r = await pending;
    expect(r.status?.code).toBe(0);
    expect(r.replies).toEqual(
      expect.arrayContaining([
        { id: 7, kind: "error", code: Code.AlreadyExists },
        { id: 8, kind: "ping", code: 0 },
        { id: 7, kind: "replicaWrite", code: 0 },
      ]),
    );
    expect(r.replies).toHaveLength(3);
    expect(seen.splice(0)).toHaveLength(1);
  });

  it("survives random frame sequences: every reply answers a call sent, at most once per call", async () => {
    releaseSlowWrite.open();
    const frame = fc.oneof(
      fc.record({ id: fc.nat(8), body: fc.constant({ case: "ping", value: {} }) }),
      fc.record({
        id: fc.nat(8),
        body: fc.record({
          case: fc.constant("replicaWrite"),
          value: fc.record({ key: fc.uint8Array({ maxLength: 4 }) }),
        }),
      }),
      fc.record({ id: fc.nat(8), cancel: fc.constant(true) }),
      fc.record({ id: fc.nat(8) }),
      fc.record({ id: fc.nat(8), body: fc.constant({ case: "replicaRead", value: {} }) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(frame, { maxLength: 6 }), { minLength: 1, maxLength: 4 }),
        async (batches) => {
          const r = await peerSession(batches.map((b) => channel(b)));
          expect(r.status?.code).toBe(0);
          const sent = new Map<number, number>();
          for (const b of batches.flat() as ChannelRequest["calls"]) {
            if (!b.cancel) sent.set(b.id, (sent.get(b.id) ?? 0) + 1);
          }
          const got = new Map<number, number>();
          for (const reply of r.replies) got.set(reply.id, (got.get(reply.id) ?? 0) + 1);
          for (const [id, n] of got) expect(n).toBeLessThanOrEqual(sent.get(id) ?? 0);
          seen.splice(0);
        },
      ),
      { numRuns: 60 },
    );
    // Still serving.
    const r = await peerSession([channel([{ id: 1, body: { case: "ping", value: {} } }])]);
    expect(r.replies).toEqual([{ id: 1, kind: "ping", code: 0 }]);
  });
});

describe("garbage at the transport level", () => {
  it("drops connections that send garbage after the HTTP/2 preface or instead of HTTP/1, and keeps serving", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.boolean(),
        async (junk, h2) => {
          const s = await rawSocket(server.port);
          s.on("data", () => {});
          s.write(
            h2
              ? concat(HTTP2_PREFACE, junk)
              : concat(Buffer.from("X"), junk, Buffer.from("\r\n\r\n")),
          );
          s.end();
          await closed(s);
        },
      ),
      { numRuns: 40 },
    );
    const client = createDistKVClient({ baseUrl: server.url, protocol: "grpc" });
    defer(() => client.close());
    await client.kv.put({ key: Buffer.from("after-garbage") });
    seen.splice(0);
    await eventually(() => server.usage().pendingConnections === 0);
  });
});
