import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { murmur3x86128Into, murmurHash3x86128 } from "./murmur3.js";

interface Vector {
  input: string;
  seed: number;
  digest: string;
}

// Produced by the reference C implementation (see "about" in the file), never by this code.
const golden = JSON.parse(
  readFileSync(new URL("../testdata/murmur3-x86-128.json", import.meta.url), "utf8"),
) as { vectors: Vector[] };

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("MurmurHash3_x86_128", () => {
  it("matches the reference implementation on every golden vector", () => {
    // Lengths 0..69 cover every tail length several times over, plus multi-block inputs,
    // non-zero seeds and all-0xff bytes (sign handling in the byte shifts).
    expect(golden.vectors.length).toBeGreaterThan(100);
    for (const v of golden.vectors) {
      expect(hex(murmurHash3x86128(Buffer.from(v.input, "hex"), v.seed)), v.input).toBe(v.digest);
    }
  });

  it("the hot-path variant hashes only the given prefix of a larger buffer", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 20 }), (a, junk) => {
        const buf = new Uint8Array(a.length + junk.length);
        buf.set(a);
        buf.set(junk, a.length);
        const words = new Uint32Array(4);
        murmur3x86128Into(buf, a.length, 0, words);
        const digest = murmurHash3x86128(a);
        const view = new DataView(digest.buffer);
        for (let w = 0; w < 4; w++) expect(words[w]).toBe(view.getUint32(w * 4, true));
      }),
    );
  });

  it("is sensitive to every input byte (no byte is ignored)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (bytes, at, delta) => {
          const i = at % bytes.length;
          const changed = bytes.slice();
          changed[i] = (changed[i]! + delta) & 0xff;
          expect(hex(murmurHash3x86128(changed))).not.toBe(hex(murmurHash3x86128(bytes)));
        },
      ),
    );
  });
});
