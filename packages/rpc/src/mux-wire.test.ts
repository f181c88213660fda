import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BatchRequestSchema, BatchResponseSchema } from "./gen/distkv/v1/kv_pb.js";
import { ChannelRequestSchema, ChannelResponseSchema } from "./gen/distkv/v1/peer_pb.js";
import { createBodyFactory } from "./mux-typed.js";
import { createOneofMuxWire, estimateMessageBytes } from "./mux-wire.js";
import { peerWire } from "./peer-wire.js";
import { pipelineWire } from "./pipeline-wire.js";

const body = createBodyFactory(ChannelRequestSchema);

describe("oneof mux wire", () => {
  it("round-trips call frames through the protobuf binary encoding", () => {
    const call = fc.record({
      id: fc.integer({ min: 0, max: 0xffff_ffff }),
      timeoutMs: fc.integer({ min: 0, max: 0xffff_ffff }),
      cancel: fc.boolean(),
      key: fc.uint8Array({ maxLength: 40 }),
      siblings: fc.uint8Array({ maxLength: 200 }),
      hint: fc.option(fc.string(), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(call, { maxLength: 20 }), (calls) => {
        const frames = calls.map((c) => ({
          id: c.id,
          timeoutMs: c.timeoutMs,
          cancel: c.cancel,
          body: c.cancel
            ? undefined
            : body("replicaWrite", {
                key: c.key,
                siblings: c.siblings,
                ...(c.hint === undefined ? {} : { hintTargetNodeId: c.hint }),
              }),
        }));
        const bytes = toBinary(ChannelRequestSchema, peerWire.encodeCalls(frames));
        const decoded = peerWire.decodeCalls(fromBinary(ChannelRequestSchema, bytes));
        expect(decoded.map((f) => [f.id, f.timeoutMs, f.cancel, f.body?.case])).toEqual(
          frames.map((f) => [f.id, f.timeoutMs, f.cancel, f.body?.case]),
        );
        decoded.forEach((f, i) => {
          const c = calls[i]!;
          if (f.body?.case !== "replicaWrite") return;
          expect(f.body.value.key).toEqual(c.key);
          expect(f.body.value.siblings).toEqual(c.siblings);
          expect(f.body.value.hintTargetNodeId).toEqual(c.hint);
        });
      }),
    );
  });

  it("round-trips results and errors; a reply without body decodes as INTERNAL", () => {
    const encoded = peerWire.encodeReplies([
      {
        id: 1,
        result: { case: "ping", value: { $typeName: "distkv.v1.PingResponse", nodeId: "n2" } },
      },
      { id: 2, error: { code: Code.NotFound, message: "nope" } },
    ]);
    const decoded = peerWire.decodeReplies(
      fromBinary(ChannelResponseSchema, toBinary(ChannelResponseSchema, encoded)),
    );
    expect(decoded[0]?.result?.case).toBe("ping");
    expect(decoded[0]?.result?.value).toMatchObject({ nodeId: "n2" });
    expect(decoded[1]?.error).toEqual({ code: Code.NotFound, message: "nope" });
    const empty = fromBinary(ChannelResponseSchema, new Uint8Array([0x0a, 0x02, 0x08, 0x07]));
    expect(peerWire.decodeReplies(empty)).toEqual([
      { id: 7, error: { code: Code.Internal, message: "reply frame without body" } },
    ]);
  });

  it("maps an out-of-range error code to UNKNOWN", () => {
    const msg = peerWire.encodeReplies([{ id: 3, error: { code: 99 as Code, message: "x" } }]);
    expect(peerWire.decodeReplies(msg)[0]?.error?.code).toBe(Code.Unknown);
  });

  it("refuses messages that do not follow the convention", () => {
    expect(() =>
      createOneofMuxWire(BatchRequestSchema as never, BatchResponseSchema as never),
    ).toThrow(/does not follow the mux convention|repeated message field/);
  });

  it("estimates sizes from field lengths, and the pipeline wire names kinds", () => {
    const b = body("replicaWrite", { key: new Uint8Array(10), siblings: new Uint8Array(1000) });
    expect(peerWire.sizeOf(b)).toBeGreaterThanOrEqual(1010);
    expect(peerWire.sizeOf(b)).toBeLessThan(1100);
    expect(estimateMessageBytes({ a: "abc", b: [1, 2], c: { d: true } })).toBeGreaterThan(5);
    expect(
      pipelineWire.kindOf({
        case: "get",
        value: { $typeName: "distkv.v1.GetRequest", key: new Uint8Array() } as never,
      }),
    ).toBe("get");
  });
});
