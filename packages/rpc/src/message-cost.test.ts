// The decode-cost scanner: exact on every valid encoding however it is chunked, an upper
// bound on what V8 really allocates, and never fooled by garbage.
import * as v8 from "node:v8";
import * as vm from "node:vm";
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { create, fromBinary, ScalarType, toBinary, toJsonString } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BatchRequestSchema,
  ClusterService,
  GetRequestSchema,
  KVService,
  PipelineRequestSchema,
  PutRequestSchema,
} from "./gen/distkv/v1/kv_pb.js";
import {
  ChannelRequestSchema,
  PeerService,
  StreamRangeRequestSchema,
} from "./gen/distkv/v1/peer_pb.js";
import { createCostScanner, estimateDecodedOverhead, Utf8Validator } from "./message-cost.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

/**
 * Every request message type the server decodes, and the response types too: the scanner
 * must be right for any schema (responses have packed repeated scalars, requests have none
 * yet).
 */
const requestSchemas: DescMessage[] = [
  ...new Set(
    [KVService, ClusterService, PeerService].flatMap((s) =>
      s.methods.flatMap((m) => [m.input, m.output]),
    ),
  ),
];

function scalarArbitrary(t: ScalarType): fc.Arbitrary<unknown> {
  switch (t) {
    case ScalarType.DOUBLE:
      return fc.double();
    case ScalarType.FLOAT:
      return fc.float();
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.bigInt(0n, 2n ** 64n - 1n);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.nat(0xffff_ffff);
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.STRING:
      return fc.string({ unit: "grapheme", maxLength: 12 });
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 40 });
    default:
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
  }
}

function fieldArbitrary(f: DescField, depth: number): fc.Arbitrary<unknown> {
  switch (f.fieldKind) {
    case "scalar":
      return scalarArbitrary(f.scalar);
    case "enum":
      return fc.constantFrom(...f.enum.values.map((v) => v.number));
    case "message":
      return messageArbitrary(f.message, depth + 1);
    case "list":
      return fc.array(
        f.listKind === "message"
          ? messageArbitrary(f.message, depth + 1)
          : f.listKind === "enum"
            ? fc.constantFrom(...f.enum.values.map((v) => v.number))
            : scalarArbitrary(f.scalar),
        { maxLength: 4 },
      );
    case "map":
      return fc.dictionary(fc.string({ maxLength: 4 }), fc.constant(undefined));
  }
}

/** A random valid message of `desc` (as an init object for create()). */
function messageArbitrary(desc: DescMessage, depth = 0): fc.Arbitrary<object> {
  if (depth > 4) return fc.constant({});
  const plain = desc.fields.filter((f) => f.oneof === undefined);
  const parts: fc.Arbitrary<[string, unknown][]>[] = plain.map((f) =>
    fc
      .option(fieldArbitrary(f, depth), { nil: undefined })
      .map((v) => (v === undefined ? [] : [[f.localName, v] as [string, unknown]])),
  );
  for (const o of desc.oneofs) {
    parts.push(
      fc
        .option(
          fc
            .constantFrom(...o.fields)
            .chain((f) =>
              fieldArbitrary(f, depth).map((value) => [
                [o.localName, { case: f.localName, value }] as [string, unknown],
              ]),
            ),
          { nil: undefined },
        )
        .map((v) => v ?? []),
    );
  }
  return fc.tuple(...parts).map((entries) => Object.fromEntries(entries.flat()) as object);
}

const anyRequest = fc.constantFrom(...requestSchemas).chain((desc) =>
  messageArbitrary(desc).map((init) => ({
    desc,
    bytes: toBinary(desc, create(desc, init as never)),
  })),
);

/** Whether protobuf-es decodes the bytes the way the server does. */
function decodes(desc: DescMessage, bytes: Uint8Array): boolean {
  try {
    fromBinary(desc, bytes, { readUnknownFields: false });
    return true;
  } catch {
    return false;
  }
}

/** The scanner's verdict on a whole message. */
function estimateVerdict(desc: DescMessage, bytes: Uint8Array): string | undefined {
  const s = createCostScanner(desc, "binary");
  s.feed(bytes);
  return s.finish();
}

/** Feeds `bytes` in pieces cut at `cuts` (offsets, any order). */
function scanInPieces(desc: DescMessage, bytes: Uint8Array, cuts: number[]) {
  const s = createCostScanner(desc, "binary");
  let at = 0;
  for (const c of [...new Set(cuts.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b)) {
    s.feed(bytes.subarray(at, c));
    at = c;
  }
  s.feed(bytes.subarray(at));
  return s;
}

describe("message cost scanner", () => {
  it("follows every valid encoding of every request type, however it is chunked", () => {
    fc.assert(
      fc.property(anyRequest, fc.array(fc.nat(), { maxLength: 8 }), ({ desc, bytes }, cuts) => {
        const whole = createCostScanner(desc, "binary");
        whole.feed(bytes);
        expect(whole.finish()).toBeUndefined();
        const pieces = scanInPieces(desc, bytes, cuts);
        expect(pieces.finish()).toBeUndefined();
        expect(pieces.overheadBytes).toBe(whole.overheadBytes);
      }),
      { numRuns: 500 },
    );
  });

  // The server answers INVALID_ARGUMENT when the scanner says a message will not decode, so
  // its verdict must be the decoder's, exactly.
  it("rejects exactly what the decoder rejects: random bytes", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...requestSchemas),
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        (desc, bytes, cuts) => {
          const verdict = scanInPieces(desc, bytes, cuts).finish();
          expect(verdict === undefined).toBe(decodes(desc, bytes));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("rejects exactly what the decoder rejects: damaged valid messages", () => {
    const damaged = fc
      .tuple(
        anyRequest,
        fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.constantFrom("set", "cut", "insert")), {
          minLength: 1,
          maxLength: 3,
        }),
      )
      .map(([{ desc, bytes }, edits]) => {
        let b = Uint8Array.from(bytes);
        for (const [at, value, kind] of edits) {
          const i = b.length === 0 ? 0 : at % b.length;
          if (kind === "set" && b.length > 0) b[i] = value;
          else if (kind === "cut") b = b.subarray(0, i);
          else b = Uint8Array.from([...b.subarray(0, i), value, ...b.subarray(i)]);
        }
        return { desc, bytes: b };
      });
    fc.assert(
      fc.property(damaged, ({ desc, bytes }) => {
        const s = createCostScanner(desc, "binary");
        s.feed(bytes);
        expect(s.finish() === undefined).toBe(decodes(desc, bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it("skips an unknown varint of any length, as the decoder does, but no known one past 10 bytes", () => {
    // Field 15 (unknown to PutRequest) as a 12-byte varint; then key = "k".
    const longUnknown = Uint8Array.from([0x78, ...new Array(11).fill(0xff), 0x01, 0x0a, 1, 0x6b]);
    expect(decodes(PutRequestSchema, longUnknown)).toBe(true);
    expect(estimateVerdict(PutRequestSchema, longUnknown)).toBeUndefined();
    // The same length for a known varint field (RequestOptions.timeout_ms in GetRequest).
    const longKnown = Uint8Array.from([0x12, 13, 0x10, ...new Array(11).fill(0xff), 0x01]);
    expect(decodes(GetRequestSchema, longKnown)).toBe(false);
    expect(estimateVerdict(GetRequestSchema, longKnown)).toMatch(/longer than 10 bytes/);
  });

  it("validates UTF-8 like a fatal TextDecoder, across chunk boundaries", () => {
    const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    const textish = fc.oneof(
      fc.uint8Array({ maxLength: 16 }),
      fc.string({ unit: "grapheme", maxLength: 8 }).map((t) => new TextEncoder().encode(t)),
      fc
        .tuple(fc.string({ unit: "grapheme", maxLength: 4 }), fc.nat(), fc.nat(255))
        .map(([t, at, v]) => {
          const b = new TextEncoder().encode(t);
          if (b.length > 0) b[at % b.length] = v;
          return b;
        }),
    );
    fc.assert(
      fc.property(textish, fc.nat(20), (bytes, cut) => {
        let valid = true;
        try {
          decoder.decode(bytes);
        } catch {
          valid = false;
        }
        const v = new Utf8Validator();
        const c = Math.min(cut, bytes.length);
        const ok = v.feed(bytes, 0, c) && v.feed(bytes, c, bytes.length) && v.complete();
        expect(ok).toBe(valid);
      }),
      { numRuns: 3000 },
    );
  });

  it("charges bytes it cannot follow at the worst-case rate, and says why", () => {
    // A tag with field number 0 is invalid: nothing after it is followed.
    const garbage = new Uint8Array(1000);
    const s = createCostScanner(PipelineRequestSchema, "binary");
    s.feed(garbage);
    expect(s.finish()).toMatch(/invalid tag \(field 0/);
    expect(s.overheadBytes).toBeGreaterThan(70 * 999);
    // Ends halfway through a length-delimited field.
    const cut = createCostScanner(PipelineRequestSchema, "binary");
    cut.feed(Uint8Array.from([0x0a, 0x05, 0x08]));
    expect(cut.finish()).toMatch(/ends inside/);
  });

  // Measured against V8: decode 4 copies, collect garbage, compare the heap. The bounds are
  // what the constants promise: never below what V8 uses, never more than 2.5x above it for the
  // shapes where decoding dominates.
  const N = 20_000;
  const shapes: [string, DescMessage, object][] = [
    [
      "empty pipeline calls (69x)",
      PipelineRequestSchema,
      { calls: Array.from({ length: N }, () => ({})) },
    ],
    [
      "16-byte-key gets",
      PipelineRequestSchema,
      {
        calls: Array.from({ length: N }, (_, i) => ({
          id: i + 1_000_000,
          timeoutMs: 5000,
          body: { case: "get", value: { key: new Uint8Array(16) } },
        })),
      },
    ],
    [
      "peer pings with a non-ASCII id",
      ChannelRequestSchema,
      {
        calls: Array.from({ length: N }, (_, i) => ({
          id: i,
          body: { case: "ping", value: { fromNodeId: "nœud-é" } },
        })),
      },
    ],
    [
      "empty batch operations",
      BatchRequestSchema,
      { operations: Array.from({ length: N }, () => ({})) },
    ],
    [
      "token ranges (BigInts)",
      StreamRangeRequestSchema,
      {
        ranges: Array.from({ length: N }, (_, i) => ({ start: BigInt(i) << 40n, end: 2n ** 63n })),
      },
    ],
  ];
  for (const [name, desc, init] of shapes) {
    it(`estimates at or above what V8 allocates: ${name}`, () => {
      const bytes = toBinary(desc, create(desc, init as never));
      const estimate = estimateDecodedOverhead(desc, "binary", bytes);
      gc();
      const before = process.memoryUsage();
      const keep = [0, 1, 2, 3].map(() => fromBinary(desc, bytes, { readUnknownFields: false }));
      gc();
      const after = process.memoryUsage();
      expect(keep).toHaveLength(4);
      const measured =
        (after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers) / 4;
      expect(measured).toBeGreaterThan(bytes.length);
      expect(estimate).toBeGreaterThanOrEqual(measured);
      expect(estimate).toBeLessThan(2.5 * measured);
    });
  }

  it("costs a large bytes value nothing beyond its wire bytes (decoded as a view)", () => {
    const bytes = toBinary(
      PipelineRequestSchema,
      create(PipelineRequestSchema, {
        calls: [
          {
            id: 1,
            body: {
              case: "put",
              value: { key: new Uint8Array(8), value: new Uint8Array(1 << 20) },
            },
          },
        ],
      }),
    );
    expect(estimateDecodedOverhead(PipelineRequestSchema, "binary", bytes)).toBeLessThan(2048);
  });

  it("estimates JSON above the binary form of the same message", () => {
    const msg = create(PipelineRequestSchema, {
      calls: Array.from({ length: 100 }, (_, i) => ({
        id: i,
        body: { case: "get" as const, value: { key: new Uint8Array(4) } },
      })),
    });
    const json = new TextEncoder().encode(toJsonString(PipelineRequestSchema, msg));
    const binary = toBinary(PipelineRequestSchema, msg);
    expect(estimateDecodedOverhead(PipelineRequestSchema, "json", json)).toBeGreaterThan(
      estimateDecodedOverhead(PipelineRequestSchema, "binary", binary),
    );
    // Braces inside strings are text, not objects.
    const inString = new TextEncoder().encode(`{"a":"${"{".repeat(100)}"}`);
    const asObjects = new TextEncoder().encode(`[${"{},".repeat(33)}{}]`);
    expect(estimateDecodedOverhead(PipelineRequestSchema, "json", inString)).toBeLessThan(
      estimateDecodedOverhead(PipelineRequestSchema, "json", asObjects),
    );
  });
});
