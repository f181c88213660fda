import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyPrefix, HTTP2_PREFACE } from "./protocol-sniffer.js";
import { MUX_TCP_MAGIC } from "./tcp-stream.js";

describe("classifyPrefix", () => {
  it("waits on every strict prefix of the HTTP/2 preface", () => {
    for (let n = 0; n < HTTP2_PREFACE.length; n++) {
      expect(classifyPrefix(HTTP2_PREFACE.subarray(0, n))).toBeUndefined();
    }
  });

  it("says h2c for the preface followed by anything", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (tail) => {
        expect(classifyPrefix(Buffer.concat([HTTP2_PREFACE, tail]))).toBe("h2c");
      }),
    );
  });

  it("says http1 as soon as a byte differs from the preface", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: HTTP2_PREFACE.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ maxLength: 32 }),
        (at, byte, tail) => {
          fc.pre(byte !== HTTP2_PREFACE[at]);
          // A first byte of 0 starts the mux-tcp magic instead (tcp-stream.test.ts covers it).
          fc.pre(!(at === 0 && byte === MUX_TCP_MAGIC[0]));
          const bytes = Buffer.concat([HTTP2_PREFACE.subarray(0, at), Buffer.from([byte]), tail]);
          expect(classifyPrefix(bytes)).toBe("http1");
        },
      ),
    );
  });

  it("classifies real HTTP/1.1 request lines", () => {
    expect(classifyPrefix(Buffer.from("POST /distkv.v1.KVService/Get HTTP/1.1\r\n"))).toBe("http1");
    // "PRI " alone is still ambiguous; "PRI * HTTP/1.1" is not the preface.
    expect(classifyPrefix(Buffer.from("PRI "))).toBeUndefined();
    expect(classifyPrefix(Buffer.from("PRI * HTTP/1.1\r\n"))).toBe("http1");
  });
});
