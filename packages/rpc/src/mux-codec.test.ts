import { create, type DescMessage, fromBinary, type Message, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  PipelineRequestSchema,
  PipelineResponseSchema,
  PutRequestSchema,
} from "./gen/distkv/v1/kv_pb.js";
import { ChannelRequestSchema, ChannelResponseSchema } from "./gen/distkv/v1/peer_pb.js";
import { fastMuxCodec, hotBodyTypes } from "./mux-codec.js";
import { messageEnvelope } from "./tcp-stream.js";

const bytes = fc.uint8Array({ maxLength: 48 });
const text = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: "binary", maxLength: 12 }));
const uint32 = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff }));
const enumValue = fc.integer({ min: -3, max: 5 });
const int64 = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: 0n, max: 1n << 40n }),
  fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
);
const options = fc.option(
  fc.record({ consistency: enumValue, timeoutMs: uint32, conflictPolicy: enumValue }),
  { nil: undefined },
);

/** A oneof body: a hot case with random fields, or a cold one protobuf-es encodes. */
type Body = { case: string; value: Record<string, unknown> } | { case: undefined };

const peerCallBody: fc.Arbitrary<Body> = fc.oneof(
  fc.record({
    case: fc.constant("replicaWrite"),
    value: fc.record(
      { key: bytes, siblings: bytes, hintTargetNodeId: text },
      { requiredKeys: ["key", "siblings"] },
    ),
  }),
  fc.record({ case: fc.constant("replicaRead"), value: fc.record({ key: bytes }) }),
  fc.record({ case: fc.constant("ping"), value: fc.record({ fromNodeId: text }) }),
  fc.record({
    case: fc.constant("gossip"),
    value: fc.record({ fromNodeId: text, data: bytes, expectsReply: fc.boolean() }),
  }),
  fc.constant({ case: undefined }),
);
const peerReplyBody: fc.Arbitrary<Body> = fc.oneof(
  fc.record({ case: fc.constant("replicaWrite"), value: fc.constant({}) }),
  fc.record({
    case: fc.constant("replicaRead"),
    value: fc.record({ found: fc.boolean(), siblings: bytes }),
  }),
  fc.record({ case: fc.constant("error"), value: fc.record({ code: uint32, message: text }) }),
  fc.record({ case: fc.constant("gossip"), value: fc.record({ reply: bytes }) }),
  fc.constant({ case: undefined }),
);
const pipelineCallBody: fc.Arbitrary<Body> = fc.oneof(
  fc.record({
    case: fc.constant("put"),
    value: fc.record(
      { key: bytes, value: bytes, context: bytes, options },
      { requiredKeys: ["key", "value", "context"] },
    ),
  }),
  fc.record({
    case: fc.constant("get"),
    value: fc.record({ key: bytes, options }, { requiredKeys: ["key"] }),
  }),
  fc.record({
    case: fc.constant("delete"),
    value: fc.record({ key: bytes, context: bytes, options }, { requiredKeys: ["key"] }),
  }),
  fc.constant({ case: undefined }),
);
const pipelineReplyBody: fc.Arbitrary<Body> = fc.oneof(
  fc.record({
    case: fc.constant("put"),
    value: fc.record({ context: bytes, replicasAcked: uint32 }),
  }),
  fc.record({
    case: fc.constant("get"),
    value: fc.record({
      found: fc.boolean(),
      siblings: fc.array(fc.record({ value: bytes, timestampMs: int64 }), { maxLength: 4 }),
      context: bytes,
      replicasAnswered: uint32,
    }),
  }),
  fc.record({
    case: fc.constant("delete"),
    value: fc.record({ context: bytes, replicasAcked: uint32 }),
  }),
  fc.record({ case: fc.constant("error"), value: fc.record({ code: uint32, message: text }) }),
  fc.constant({ case: undefined }),
);

const calls = (body: fc.Arbitrary<Body>) =>
  fc
    .array(fc.record({ id: uint32, timeoutMs: uint32, cancel: fc.boolean(), body }), {
      maxLength: 6,
    })
    .map((calls) => ({ calls }));
const replies = (body: fc.Arbitrary<Body>) =>
  fc.array(fc.record({ id: uint32, body }), { maxLength: 6 }).map((replies) => ({ replies }));

const CASES: { name: string; schema: DescMessage; init: fc.Arbitrary<object> }[] = [
  { name: "ChannelRequest", schema: ChannelRequestSchema, init: calls(peerCallBody) },
  { name: "ChannelResponse", schema: ChannelResponseSchema, init: replies(peerReplyBody) },
  { name: "PipelineRequest", schema: PipelineRequestSchema, init: calls(pipelineCallBody) },
  { name: "PipelineResponse", schema: PipelineResponseSchema, init: replies(pipelineReplyBody) },
];

/** protobuf-es's outcome: the decoded message, or the error message it threw. */
function reference(schema: DescMessage, b: Uint8Array): Message | string {
  try {
    return fromBinary(schema, b, { readUnknownFields: false });
  } catch (e) {
    return (e as Error).message;
  }
}

function fast(schema: DescMessage, b: Uint8Array): Message | string {
  try {
    return fastMuxCodec(schema)!.decode(b);
  } catch (e) {
    return (e as Error).message;
  }
}

describe("fastMuxCodec", () => {
  it("exists for the four mux stream messages only", () => {
    for (const c of CASES) expect(fastMuxCodec(c.schema), c.name).toBeDefined();
    expect(fastMuxCodec(PutRequestSchema)).toBeUndefined();
  });

  it("has a codec of its own for every hot body (none fell back to protobuf-es)", () => {
    expect(hotBodyTypes(ChannelRequestSchema)).toEqual([
      "distkv.v1.ReplicaReadRequest",
      "distkv.v1.ReplicaWriteRequest",
    ]);
    expect(hotBodyTypes(ChannelResponseSchema)).toEqual([
      "distkv.v1.PeerError",
      "distkv.v1.ReplicaReadResponse",
      "distkv.v1.ReplicaWriteResponse",
    ]);
    expect(hotBodyTypes(PipelineRequestSchema)).toEqual([
      "distkv.v1.DeleteRequest",
      "distkv.v1.GetRequest",
      "distkv.v1.PutRequest",
    ]);
    expect(hotBodyTypes(PipelineResponseSchema)).toEqual([
      "distkv.v1.DeleteResponse",
      "distkv.v1.GetResponse",
      "distkv.v1.PipelineError",
      "distkv.v1.PutResponse",
    ]);
  });

  for (const c of CASES) {
    it(`${c.name}: encodes the bytes protobuf-es encodes, in one envelope`, () => {
      fc.assert(
        fc.property(c.init, (init) => {
          const message = create(c.schema, init as never);
          const expected = toBinary(c.schema, message);
          const body = fastMuxCodec(c.schema)!.encode(message, 5);
          expect(body).toBeDefined(); // the hand-written path, not the fallback
          expect(new Uint8Array(body!.subarray(5))).toEqual(expected);
          const envelope = messageEnvelope(c.schema, message);
          expect(envelope[0]).toBe(0);
          expect(envelope.readUInt32BE(1)).toBe(expected.length);
          expect(new Uint8Array(envelope.subarray(5))).toEqual(expected);
        }),
        { numRuns: 300 },
      );
    });

    it(`${c.name}: decodes to what protobuf-es decodes`, () => {
      fc.assert(
        fc.property(c.init, (init) => {
          const b = toBinary(c.schema, create(c.schema, init as never));
          expect(fast(c.schema, b)).toStrictEqual(reference(c.schema, b));
        }),
        { numRuns: 300 },
      );
    });

    it(`${c.name}: damaged or foreign bytes fail or decode exactly as with protobuf-es`, () => {
      const damaged = fc
        .tuple(c.init, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat())
        .map(([init, at, byte, cut]) => {
          const b = toBinary(c.schema, create(c.schema, init as never));
          if (b.length === 0) return b;
          const copy = b.slice();
          copy[at % copy.length] = byte;
          return copy.subarray(0, copy.length - (cut % 3));
        });
      fc.assert(
        fc.property(fc.oneof(damaged, fc.uint8Array({ maxLength: 64 })), (b) => {
          expect(fast(c.schema, b)).toStrictEqual(reference(c.schema, b));
        }),
        { numRuns: 1000 },
      );
    });
  }

  it("drops unknown fields, as the streams decode with readUnknownFields: false", () => {
    // calls[0] = { id: 7, replica_read: { key: [1], field 9 = 1 (unknown) } }
    const b = Uint8Array.of(0x0a, 9, 0x08, 0x07, 0x5a, 5, 0x0a, 0x01, 0x01, 0x48, 0x01);
    const decoded = fast(ChannelRequestSchema, b);
    expect(decoded).toStrictEqual(reference(ChannelRequestSchema, b));
    const call = (decoded as unknown as { calls: { id: number; body: { value: object } }[] })
      .calls[0]!;
    expect(call.id).toBe(7);
    expect(call.body.value).toStrictEqual({
      $typeName: "distkv.v1.ReplicaReadRequest",
      key: Uint8Array.of(1),
    });
  });

  it("writes unknown fields a frame carries back out, through protobuf-es", () => {
    const message = fromBinary(
      ChannelRequestSchema,
      Uint8Array.of(0x0a, 4, 0x08, 0x07, 0x48, 0x01), // calls[0] = { id: 7, field 9 = 1 }
      { readUnknownFields: true },
    );
    expect(message.calls[0]!.$unknown).toHaveLength(1);
    expect(fastMuxCodec(ChannelRequestSchema)!.encode(message, 5)).toBeUndefined();
    const envelope = messageEnvelope(ChannelRequestSchema, message);
    expect(new Uint8Array(envelope.subarray(5))).toEqual(toBinary(ChannelRequestSchema, message));
    expect(envelope.subarray(5)).toEqual(Buffer.from([0x0a, 4, 0x08, 0x07, 0x48, 0x01]));
  });
});
