import { describe, expect, it } from "vitest";
import { isMerkleProtocolError } from "./errors.js";
import {
  decodeReply,
  decodeRequest,
  encodeRequest,
  MAX_QUERIES,
  MAX_REQUEST_NODES,
  MERKLE_FORMAT_V1,
  type Query,
  QueryKind,
  ReplyWriter,
} from "./wire.js";

function protocolError(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    expect(isMerkleProtocolError(e)).toBe(true);
    return e as Error;
  }
  throw new Error("expected a MerkleProtocolError");
}

describe("requests", () => {
  it("round-trip, with gap-coded indexes", () => {
    const queries: Query[] = [
      { kind: QueryKind.Nodes, level: 0, indexes: [0] },
      { kind: QueryKind.Children, level: 3, indexes: [1, 2, 300, 2 ** 40] },
      { kind: QueryKind.Entries, level: 20, indexes: [2 ** 52 - 1] },
    ];
    const bytes = encodeRequest(0xdeadbeef, queries);
    expect(bytes[0]).toBe(MERKLE_FORMAT_V1);
    expect(decodeRequest(bytes, 16)).toEqual({ shapeId: 0xdeadbeef, queries });
  });

  it("the encoder refuses unsorted indexes", () => {
    protocolError(() => encodeRequest(1, [{ kind: 0, level: 1, indexes: [2, 2] }]));
  });

  it("the decoder refuses what it cannot trust", () => {
    const ok = encodeRequest(1, [{ kind: QueryKind.Nodes, level: 1, indexes: [1, 2] }]);
    expect(protocolError(() => decodeRequest(Uint8Array.of(2), 16)).message).toMatch(/format 0x2/);
    expect(protocolError(() => decodeRequest(ok.slice(0, -1), 16)).message).toMatch(/truncated/);
    expect(protocolError(() => decodeRequest(Uint8Array.of(...ok, 0), 16)).message).toMatch(
      /1 bytes after the end/,
    );
    // gap 0: a repeated index
    const repeated = Uint8Array.of(...ok.slice(0, -1), 0);
    expect(protocolError(() => decodeRequest(repeated, 16)).message).toMatch(/strictly ascending/);
    // kind 7
    const kind = Uint8Array.of(...ok);
    kind[6] = 7;
    expect(protocolError(() => decodeRequest(kind, 16)).message).toMatch(/unknown query kind 7/);
    // non-minimal varint (0x80 0x00 for 0)
    const header = [MERKLE_FORMAT_V1, 0, 0, 0, 1];
    expect(
      protocolError(() => decodeRequest(Uint8Array.of(...header, 0x80, 0x00), 16)).message,
    ).toMatch(/minimal/);
    const many = encodeRequest(
      1,
      Array.from({ length: MAX_QUERIES + 1 }, () => ({ kind: 0, level: 0, indexes: [] })),
    );
    expect(protocolError(() => decodeRequest(many, 16)).message).toMatch(/queries, more than/);
    const big = encodeRequest(1, [
      {
        kind: QueryKind.Children,
        level: 5,
        indexes: Array.from({ length: MAX_REQUEST_NODES / 16 + 1 }, (_, i) => i),
      },
    ]);
    expect(protocolError(() => decodeRequest(big, 16)).message).toMatch(/more than 65536 nodes/);
    expect(() => decodeRequest(big, 8)).not.toThrow();
  });
});

describe("replies", () => {
  it("round-trip nodes, children and entries; empty nodes carry no hash", () => {
    const queries: Query[] = [
      { kind: QueryKind.Nodes, level: 0, indexes: [0] },
      { kind: QueryKind.Children, level: 1, indexes: [3] },
      { kind: QueryKind.Entries, level: 2, indexes: [4, 5] },
    ];
    const hash = new Uint8Array(32).fill(7);
    const w = new ReplyWriter(3);
    w.node(5, hash, 0);
    w.node(0, hash, 0);
    w.node(2, hash, 16);
    w.varint(1); // one of two segments answered
    w.varint(1);
    w.entry("key", "d".repeat(16));
    const bytes = w.finish();
    expect(bytes.length).toBe(1 + 1 + (1 + 16) + 1 + (1 + 16) + 1 + 1 + (1 + 3 + 16));
    expect(decodeReply(bytes, queries, 2)).toEqual([
      { kind: QueryKind.Nodes, nodes: [{ count: 5, hash: "\x07".repeat(16) }] },
      {
        kind: QueryKind.Children,
        nodes: [
          { count: 0, hash: "" },
          { count: 2, hash: "\x07".repeat(16) },
        ],
      },
      { kind: QueryKind.Entries, segments: [[["key", "d".repeat(16)]]] },
    ]);
  });

  it("refuses a reply that does not match the request", () => {
    const queries: Query[] = [{ kind: QueryKind.Entries, level: 2, indexes: [4] }];
    const w = new ReplyWriter(1);
    w.varint(2); // two segments for one asked
    expect(protocolError(() => decodeReply(w.finish(), queries, 2)).message).toMatch(
      /2 segments answered of 1/,
    );
    const none = new ReplyWriter(1);
    none.varint(0);
    expect(protocolError(() => decodeReply(none.finish(), queries, 2)).message).toMatch(
      /0 segments answered/,
    );
    expect(
      protocolError(() => decodeReply(new ReplyWriter(2).finish(), queries, 2)).message,
    ).toMatch(/2 results for 1 queries/);
  });
});
