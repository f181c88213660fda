import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyCounterArb, byteSetArb, vvArb } from "../test/arbitraries.js";
import {
  createCodec,
  decodeContext,
  decodeSiblingSet,
  encodeContext,
  encodeSiblingSet,
} from "./codec.js";
import { resolveCodecOptions } from "./codec-options.js";
import { CONTEXT_FORMAT_V1 } from "./context-codec.js";
import {
  isInvalidContextError,
  isInvalidEncodingError,
  isInvalidOptionsError,
  isInvalidSiblingSetError,
  isInvalidVersionVectorError,
  isLimitExceededError,
} from "./errors.js";
import { type SiblingSet, siblingSet } from "./sibling-set.js";
import { SIBLING_SET_FORMAT_V1 } from "./sibling-set-codec.js";
import {
  isVersionVector,
  MAX_COUNTER,
  type VersionVector,
  versionVector,
} from "./version-vector.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const bytes = (s: string) => new TextEncoder().encode(s);

/** Edits a valid encoding: flips, overwrites, inserts, deletes, truncates, appends. */
type Mutation =
  | { k: "set"; at: number; byte: number }
  | { k: "xor"; at: number; bit: number }
  | { k: "insert"; at: number; bytes: Uint8Array }
  | { k: "delete"; at: number; count: number }
  | { k: "truncate"; at: number }
  | { k: "append"; bytes: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    k: fc.constant("set" as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ k: fc.constant("xor" as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({
    k: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }),
  }),
  fc.record({
    k: fc.constant("delete" as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({ k: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    k: fc.constant("append" as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }),
  }),
);

function mutate(input: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = Array.from(input);
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : "at" in m ? m.at % (b.length + 1) : 0;
    if (m.k === "set" && at < b.length) b[at] = m.byte;
    else if (m.k === "xor" && at < b.length) b[at] = b[at]! ^ (1 << m.bit);
    else if (m.k === "insert") b.splice(at, 0, ...m.bytes);
    else if (m.k === "delete") b.splice(at, m.count);
    else if (m.k === "truncate") b = b.slice(0, at);
    else if (m.k === "append") b.push(...m.bytes);
  }
  return new Uint8Array(b);
}

/**
 * The decoder contract: either the named error, or a valid result. Because the format is
 * canonical (one encoding per value), a valid result must re-encode to exactly the input.
 */
function expectSetDecodeContract(input: Uint8Array): "ok" | "error" {
  let set: SiblingSet<Uint8Array>;
  try {
    set = decodeSiblingSet(input);
  } catch (e) {
    if (!isInvalidEncodingError(e)) throw e;
    expect((e as Error).message).toMatch(/^invalid sibling set encoding at byte \d+: /);
    return "error";
  }
  expect(siblingSet(set.clock, set.siblings).siblings).toEqual(set.siblings);
  expect(hex(encodeSiblingSet(set))).toBe(hex(input));
  return "ok";
}

function expectContextDecodeContract(input: Uint8Array): "ok" | "error" {
  let vv: VersionVector;
  try {
    vv = decodeContext(input);
  } catch (e) {
    if (!isInvalidContextError(e)) throw e;
    expect((e as Error).message).toMatch(/^invalid context token at byte \d+: /);
    return "error";
  }
  expect(isVersionVector(vv)).toBe(true);
  expect(hex(encodeContext(vv))).toBe(hex(input));
  return "ok";
}

describe("context token", () => {
  it("has a stable byte layout (golden)", () => {
    const token = encodeContext(versionVector({ "node-a": 3, "node-b": 300 }));
    expect(hex(token)).toBe(
      [
        "01", // format v1
        "02", // two entries
        "06 6e6f64652d61 03", // "node-a" -> 3
        "06 6e6f64652d62 ac02", // "node-b" -> 300 (LEB128)
      ]
        .join("")
        .replace(/\s+/g, ""),
    );
    expect(token[0]).toBe(CONTEXT_FORMAT_V1);
    expect(hex(encodeContext([]))).toBe("0100");
  });

  it("round-trips any vector, byte-exactly", () => {
    fc.assert(
      fc.property(vvArb(anyCounterArb, undefined, 12), (vv) => {
        const token = encodeContext(vv);
        expect(decodeContext(token)).toEqual(vv);
        expect(expectContextDecodeContract(token)).toBe("ok");
      }),
      { numRuns: 300 },
    );
  });

  it("random bytes: only InvalidContextError or a valid, canonical token", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 40 }),
          // Start with the right format byte so decoding gets past it.
          fc.uint8Array({ maxLength: 40 }).map((b) => new Uint8Array([CONTEXT_FORMAT_V1, ...b])),
        ),
        (input) => {
          expectContextDecodeContract(input);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("mutated valid tokens: only InvalidContextError or a valid, canonical token", () => {
    let errors = 0;
    fc.assert(
      fc.property(
        vvArb(anyCounterArb),
        fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
        (vv, ms) => {
          if (expectContextDecodeContract(mutate(encodeContext(vv), ms)) === "error") errors++;
        },
      ),
      { numRuns: 2000 },
    );
    // The fuzzer must actually reach the error paths, not only re-decode valid tokens.
    expect(errors).toBeGreaterThan(100);
  });

  it("names each malformation", () => {
    const cases: [string, RegExp][] = [
      ["", /byte 0: truncated: expected format byte/],
      ["02 00", /unknown format byte 0x02/],
      ["11 00 00", /unknown format byte 0x11/], // a sibling set is not a context
      ["01", /truncated: expected actor count/],
      ["01 01 01 61", /truncated: expected counter/],
      ["01 01 02 61", /actor id is cut off/],
      ["01 00 00", /1 trailing byte/],
      ["01 01 01 61 00", /counter 0 is outside/],
      ["01 01 00", /actor id length 0 is outside/],
      ["01 02 01 62 01 01 61 01", /not strictly ascending/],
      ["01 02 01 61 01 01 61 01", /not strictly ascending/],
      ["01 01 01 ff 01", /not valid UTF-8/],
      ["01 01 01 61 8100", /non-minimal varint/],
      ["01 01 01 61 ffffffffffffffff01", /longer than 8 bytes/],
      ["01 01 01 61 8080808080808010", /above Number.MAX_SAFE_INTEGER/],
      ["01 01 01 61 ffff", /counter varint is cut off/],
      ["01 8010", /actor count 2048 is outside \[0, 1024\]/],
    ];
    for (const [input, message] of cases) {
      try {
        decodeContext(unhex(input));
        expect.unreachable(input);
      } catch (e) {
        expect(isInvalidContextError(e), input).toBe(true);
        expect((e as Error).message, input).toMatch(message);
      }
    }
    // The largest counter is accepted.
    expect(decodeContext(encodeContext([["a", MAX_COUNTER]]))).toEqual([["a", MAX_COUNTER]]);
  });

  it("keeps a leading BOM and non-ASCII actors intact", () => {
    const vv = versionVector({ "\uFEFFx": 1, ñodo: 2, "😀": 3 });
    expect(decodeContext(encodeContext(vv))).toEqual(vv);
  });

  it("refuses to encode an invalid vector or one over the actor limit", () => {
    try {
      encodeContext([
        ["b", 1],
        ["a", 1],
      ]);
      expect.unreachable();
    } catch (e) {
      expect(isInvalidVersionVectorError(e)).toBe(true);
    }
    const codec = createCodec({ maxActors: 2 });
    const three = versionVector({ a: 1, b: 1, c: 1 });
    try {
      codec.encodeContext(three);
      expect.unreachable();
    } catch (e) {
      expect(isLimitExceededError(e)).toBe(true);
    }
    try {
      codec.decodeContext(encodeContext(three));
      expect.unreachable();
    } catch (e) {
      expect(isInvalidContextError(e)).toBe(true);
    }
  });

  it("rejects a non-Uint8Array input by name", () => {
    try {
      decodeContext("AQA=" as unknown as Uint8Array);
      expect.unreachable();
    } catch (e) {
      expect(isInvalidContextError(e)).toBe(true);
    }
  });
});

describe("sibling set encoding", () => {
  const example = siblingSet(versionVector({ A: 2, B: 1 }), [
    { actor: "A", counter: 1, value: bytes("hi"), timestampMs: 1000 },
    { actor: "A", counter: 2, value: null, timestampMs: 2000 },
    { actor: "B", counter: 1, value: new Uint8Array(0), timestampMs: 0 },
  ]);

  it("has a stable byte layout (golden)", () => {
    expect(hex(encodeSiblingSet(example))).toBe(
      [
        "11", // format v1
        "02 01 41 02 01 42 01", // clock: 2 actors, "A" -> 2, "B" -> 1
        "03", // three siblings
        "00 01 e807 03 6869", // A (index 0), gap 1 -> counter 1, ts 1000, 2 value bytes "hi"
        "00 00 d00f 00", // A, gap 0 -> counter 2, ts 2000, tombstone
        "01 00 00 01", // B, counter 1, ts 0, empty value
      ]
        .join("")
        .replace(/\s+/g, ""),
    );
    expect(encodeSiblingSet(example)[0]).toBe(SIBLING_SET_FORMAT_V1);
    expect(hex(encodeSiblingSet({ clock: [], siblings: [] }))).toBe("110000");
  });

  it("round-trips any valid set, byte-exactly", () => {
    fc.assert(
      fc.property(byteSetArb, (set) => {
        const enc = encodeSiblingSet(set);
        expect(decodeSiblingSet(enc)).toEqual(set);
        expect(expectSetDecodeContract(enc)).toBe("ok");
      }),
      { numRuns: 300 },
    );
  });

  it("random bytes: only InvalidEncodingError or a valid, canonical set", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 60 }),
          fc
            .uint8Array({ maxLength: 60 })
            .map((b) => new Uint8Array([SIBLING_SET_FORMAT_V1, ...b])),
          // A valid small clock, then random sibling bytes: reaches the sibling checks.
          fc
            .uint8Array({ maxLength: 40 })
            .map((b) => new Uint8Array([SIBLING_SET_FORMAT_V1, 2, 1, 0x41, 3, 1, 0x42, 1, ...b])),
        ),
        (input) => {
          expectSetDecodeContract(input);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("mutated valid encodings: only InvalidEncodingError or a valid, canonical set", () => {
    let errors = 0;
    let oks = 0;
    fc.assert(
      fc.property(byteSetArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (set, ms) => {
        if (expectSetDecodeContract(mutate(encodeSiblingSet(set), ms)) === "error") errors++;
        else oks++;
      }),
      { numRuns: 3000 },
    );
    expect(errors).toBeGreaterThan(100);
    expect(oks).toBeGreaterThan(10);
  });

  it("names each malformation", () => {
    const clockAB = "02 01 41 02 01 42 01"; // A -> 2, B -> 1
    const cases: [string, RegExp][] = [
      ["", /byte 0: truncated: expected format byte/],
      ["01 00", /unknown format byte 0x01/], // a context token is not a sibling set
      ["11 00", /truncated: expected sibling count/],
      ["11 00 00 00", /1 trailing byte/],
      [`11 ${clockAB} 01 02 00 00 00`, /sibling actor index 2 is outside \[0, 1\]/],
      ["11 00 01 00", /sibling actor index 0 is outside \[0, -1\]/],
      [`11 ${clockAB} 01 00 02 00 00`, /sibling counter gap 2 is outside \[0, 1\]/],
      [`11 ${clockAB} 01 01 01 00 00`, /sibling counter gap 1 is outside \[0, 0\]/],
      [`11 ${clockAB} 02 01 00 00 00 00 00 00 00`, /not strictly ascending by dot/],
      [`11 ${clockAB} 02 00 00 00 00 00 00 00 00`, /not strictly ascending by dot/],
      [`11 ${clockAB} 02 00 00 00 00 00 01 00 00`, /not strictly ascending by dot/],
      [`11 ${clockAB} 01 00 00 00 05 6869`, /value of 4 bytes is cut off/],
      [`11 ${clockAB} 01 00 00 00`, /truncated: expected sibling value tag/],
      [`11 ${clockAB} 01 00 00 8000 00`, /sibling timestampMs: non-minimal varint/],
      ["11 02 01 42 01 01 41 01 00", /actors are not strictly ascending/],
      ["11 01 01 c3 01 00", /not valid UTF-8/],
      ["11 01 01 41 00 00", /counter 0 is outside/],
      [`11 ${clockAB} 8008`, /sibling count 1024 is outside|truncated/],
      [`11 ${clockAB} 8010`, /sibling count 2048 is outside \[0, 1024\]/],
    ];
    for (const [input, message] of cases) {
      try {
        decodeSiblingSet(unhex(input));
        expect.unreachable(input);
      } catch (e) {
        expect(isInvalidEncodingError(e), input).toBe(true);
        expect((e as Error).message, input).toMatch(message);
      }
    }
  });

  it("copies values by default, and returns views with copyValues: false", () => {
    const enc = encodeSiblingSet(example);
    const copied = decodeSiblingSet(enc);
    const viewed = createCodec({ copyValues: false }).decodeSiblingSet(enc);
    enc.fill(0x7a);
    expect(copied.siblings[0]!.value).toEqual(bytes("hi"));
    expect(viewed.siblings[0]!.value).toEqual(bytes("zz"));
  });

  it("refuses to encode invalid sets (so nothing unreadable is ever stored)", () => {
    const clock = versionVector({ A: 2 });
    const ok = { actor: "A", counter: 1, value: bytes("x") as Uint8Array | null, timestampMs: 1 };
    const bad: SiblingSet<Uint8Array>[] = [
      { clock, siblings: [{ ...ok, counter: 3 }] },
      { clock, siblings: [{ ...ok, counter: 0 }] },
      { clock, siblings: [{ ...ok, actor: "B" }] },
      { clock, siblings: [ok, ok] },
      { clock, siblings: [{ ...ok, counter: 2 }, ok] },
      { clock, siblings: [{ ...ok, timestampMs: -5 }] },
      { clock, siblings: [{ ...ok, value: "x" as unknown as Uint8Array }] },
    ];
    for (const set of bad) {
      try {
        encodeSiblingSet(set);
        expect.unreachable(JSON.stringify(set));
      } catch (e) {
        expect(isInvalidSiblingSetError(e)).toBe(true);
      }
    }
    try {
      encodeSiblingSet({ clock: [["A", 0]], siblings: [] });
      expect.unreachable();
    } catch (e) {
      expect(isInvalidVersionVectorError(e)).toBe(true);
    }
  });

  it("enforces maxSiblings and maxActors on both sides", () => {
    const codec = createCodec({ maxSiblings: 2, maxActors: 1 });
    try {
      codec.encodeSiblingSet(example);
      expect.unreachable();
    } catch (e) {
      expect(isLimitExceededError(e)).toBe(true);
    }
    try {
      codec.decodeSiblingSet(encodeSiblingSet(example));
      expect.unreachable();
    } catch (e) {
      expect(isInvalidEncodingError(e)).toBe(true);
    }
  });
});

describe("resolveCodecOptions", () => {
  it("fills defaults and freezes", () => {
    const o = resolveCodecOptions();
    expect(o).toEqual({ maxActors: 1024, maxSiblings: 1024, copyValues: true });
    expect(Object.isFrozen(o)).toBe(true);
    expect(resolveCodecOptions({ maxActors: 5 }).maxActors).toBe(5);
  });
  it("rejects bad values", () => {
    for (const bad of [
      { maxActors: 0 },
      { maxSiblings: 1.5 },
      { maxActors: Number.NaN },
      { copyValues: 1 },
    ]) {
      try {
        resolveCodecOptions(bad as never);
        expect.unreachable(JSON.stringify(bad));
      } catch (e) {
        expect(isInvalidOptionsError(e)).toBe(true);
      }
    }
  });
});
