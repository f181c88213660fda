import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  assembleDatagram,
  decodeDatagram,
  encodeDatagram,
  encodeMessage,
  GOSSIP_WIRE_VERSION,
} from "./codec.js";
import { GossipDecodeError, isGossipDecodeError } from "./errors.js";
import { MAX_ID_BYTES } from "./member.js";
import type { GossipMessage, MemberState } from "./messages.js";

const utf8 = new TextEncoder();
// Ids and addresses: non-empty, within the byte limit, any Unicode (lone surrogates excluded:
// they do not survive UTF-8, and validateNodeId's byte count would differ).
const text = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 40 })
  .filter((s) => utf8.encode(s).length <= MAX_ID_BYTES);
const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const incarnation = fc.oneof(
  fc.integer({ min: 0, max: 1000 }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.constant(1_700_000_000_123),
);
const phase = fc.constantFrom("joining" as const, "normal" as const, "leaving" as const);
const bytes = fc.uint8Array({ maxLength: 64 });

const memberState: fc.Arbitrary<MemberState> = fc.record({
  id: text,
  address: text,
  liveness: fc.constantFrom("alive" as const, "suspect" as const, "dead" as const, "left" as const),
  phase,
  incarnation,
  metadata: bytes,
});

const message: fc.Arbitrary<GossipMessage> = fc.oneof(
  fc.record({
    type: fc.constant("ping" as const),
    seq: u32,
    targetId: text,
    sourceId: text,
    sourceAddress: text,
  }),
  fc.record({
    type: fc.constant("indirect-ping" as const),
    seq: u32,
    targetId: text,
    targetAddress: text,
    sourceId: text,
    sourceAddress: text,
    timeoutMs: fc.integer({ min: 0, max: 100_000 }),
  }),
  fc.record({ type: fc.constant("ack" as const), seq: u32 }),
  fc.record({ type: fc.constant("nack" as const), seq: u32 }),
  fc.record({
    type: fc.constant("alive" as const),
    id: text,
    address: text,
    incarnation,
    phase,
    metadata: bytes,
  }),
  fc.record({ type: fc.constant("suspect" as const), id: text, incarnation, from: text }),
  fc.record({ type: fc.constant("dead" as const), id: text, incarnation, from: text }),
  fc.record({ type: fc.constant("left" as const), id: text, incarnation }),
  fc.record({
    type: fc.constant("push-pull" as const),
    sourceId: text,
    nonce: u32,
    reply: fc.boolean(),
    join: fc.boolean(),
    members: fc.array(memberState, { maxLength: 5 }),
  }),
);

function decodeError(data: Uint8Array): unknown {
  try {
    decodeDatagram(data);
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("codec", () => {
  it("round-trips every message, alone and in datagrams of several", () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), (messages) => {
        expect(decodeDatagram(encodeDatagram(messages))).toEqual(messages);
        expect(decodeDatagram(assembleDatagram(messages.map(encodeMessage)))).toEqual(messages);
      }),
    );
  });

  it("has a stable layout (golden bytes)", () => {
    const data = encodeDatagram([
      { type: "ack", seq: 300 },
      { type: "left", id: "a", incarnation: 2 },
    ]);
    // version, [ack: type 3, len 2, varint 300], [left: type 8, len 3, "a", 2]
    expect([...data]).toEqual([GOSSIP_WIRE_VERSION, 3, 2, 0xac, 0x02, 8, 3, 1, 0x61, 2]);
  });

  it("skips message types it does not know", () => {
    const known = encodeMessage({ type: "nack", seq: 7 });
    const unknown = new Uint8Array([200, 3, 1, 2, 3]);
    expect(decodeDatagram(assembleDatagram([unknown, known]))).toEqual([{ type: "nack", seq: 7 }]);
  });

  it("rejects malformed input with GossipDecodeError", () => {
    const good = encodeDatagram([
      {
        type: "alive",
        id: "n1",
        address: "h:1",
        incarnation: 5,
        phase: "normal",
        metadata: new Uint8Array([1, 2]),
      },
    ]);
    const cases: Uint8Array[] = [
      new Uint8Array([]),
      new Uint8Array([99, 3, 1, 0]), // wrong version
      good.subarray(0, good.length - 1), // truncated
      new Uint8Array([GOSSIP_WIRE_VERSION, 3, 5, 1]), // length past the end
      new Uint8Array([GOSSIP_WIRE_VERSION, 3, 2, 1, 0]), // trailing byte inside an ack
      new Uint8Array([GOSSIP_WIRE_VERSION, 8, 3, 0, 0, 0]), // empty id
      new Uint8Array([GOSSIP_WIRE_VERSION, 8, 3, 1, 0xff, 0x01]), // bad UTF-8 id
      new Uint8Array([
        GOSSIP_WIRE_VERSION,
        3,
        9,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0x01,
      ]), // varint too long
      new Uint8Array([GOSSIP_WIRE_VERSION, 5, 7, 1, 0x61, 1, 0x62, 1, 9, 0]), // phase code 9
      new Uint8Array([GOSSIP_WIRE_VERSION, 9, 6, 1, 0x61, 0, 0, 0x7f, 0]), // 127 members claimed in 6 bytes
    ];
    for (const c of cases) {
      const e = decodeError(c);
      expect(isGossipDecodeError(e), `${[...c]}`).toBe(true);
    }
  });

  it("never throws anything but GossipDecodeError on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (data) => {
        const e = decodeError(data);
        expect(e === undefined || e instanceof GossipDecodeError).toBe(true);
      }),
    );
    // Corrupting a valid datagram byte by byte: decodes or fails cleanly.
    fc.assert(
      fc.property(message, fc.nat(), fc.integer({ min: 0, max: 255 }), (m, at, value) => {
        const data = encodeDatagram([m]);
        data[at % data.length] = value;
        const e = decodeError(data);
        expect(e === undefined || e instanceof GossipDecodeError).toBe(true);
      }),
    );
  });
});
