import { MAX_ACTOR_BYTES } from "./actor.js";
import { readUtf8 } from "./utf8.js";

// Decoded actor ids: the same few node ids arrive in every buffer. Comparing a dozen bytes
// against the recent ones is cheaper than building a new string, and returns the same string
// instance each time (so later `===` comparisons of actors are pointer checks).
const RECENT_ACTORS = 16;
const recentBytes: Uint8Array[] = [];
const recentStrings: string[] = [];
let recentNext = 0;

function recentActor(bytes: Uint8Array, start: number, len: number): string | undefined {
  outer: for (let i = 0; i < recentBytes.length; i++) {
    const c = recentBytes[i]!;
    if (c.length !== len) continue;
    for (let k = 0; k < len; k++) if (c[k] !== bytes[start + k]) continue outer;
    return recentStrings[i];
  }
  return undefined;
}

function rememberActor(bytes: Uint8Array, start: number, len: number, s: string): void {
  recentBytes[recentNext] = bytes.slice(start, start + len);
  recentStrings[recentNext] = s;
  recentNext = (recentNext + 1) % RECENT_ACTORS;
}

/** Builds the decoder's named error (InvalidContextError or InvalidEncodingError). */
export type DecodeErrorFactory = (message: string, offset: number, cause?: unknown) => Error;

/**
 * A bounds-checked cursor over a buffer. Every read checks the remaining length first, so a
 * truncated or hostile buffer ends in the decoder's named error, never an out-of-range read, a
 * huge allocation or a silently shortened result.
 */
export class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    private readonly makeError: DecodeErrorFactory,
  ) {}

  fail(message: string, offset: number = this.pos, cause?: unknown): never {
    throw this.makeError(message, offset, cause);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  byte(what: string): number {
    const b = this.bytes[this.pos];
    if (b === undefined) this.fail(`truncated: expected ${what}`);
    this.pos++;
    return b;
  }

  /** An unsigned LEB128 varint in [0, Number.MAX_SAFE_INTEGER], minimal form only. */
  varint(what: string): number {
    const bytes = this.bytes;
    const start = this.pos;
    const n = bytes.length;
    let pos = start;
    if (pos >= n) this.fail(`truncated: expected ${what}`);
    let b = bytes[pos++]!;
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let result = b & 0x7f;
    let scale = 0x80;
    for (let i = 1; ; i++) {
      if (i === 8) this.fail(`${what}: varint longer than 8 bytes`, start);
      if (pos >= n) this.fail(`truncated: ${what} varint is cut off`, start);
      b = bytes[pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        // A final zero group adds nothing: a longer spelling of a shorter varint.
        if (b === 0) this.fail(`${what}: non-minimal varint`, start);
        break;
      }
      scale *= 0x80;
    }
    if (result > Number.MAX_SAFE_INTEGER) {
      this.fail(`${what}: ${result} is above Number.MAX_SAFE_INTEGER`, start);
    }
    this.pos = pos;
    return result;
  }

  /** A varint that must lie in [min, max]. */
  bounded(what: string, min: number, max: number): number {
    const start = this.pos;
    const v = this.varint(what);
    if (v < min || v > max) this.fail(`${what} ${v} is outside [${min}, ${max}]`, start);
    return v;
  }

  /** A length-prefixed UTF-8 actor id. */
  actor(): string {
    const start = this.pos;
    const len = this.bounded("actor id length", 1, MAX_ACTOR_BYTES);
    if (len > this.remaining) this.fail("truncated: actor id is cut off", start);
    let s = recentActor(this.bytes, this.pos, len);
    if (s === undefined) {
      try {
        s = readUtf8(this.bytes, this.pos, this.pos + len);
      } catch (cause) {
        this.fail("actor id is not valid UTF-8", this.pos, cause);
      }
      rememberActor(this.bytes, this.pos, len, s);
    }
    this.pos += len;
    return s;
  }

  end(): void {
    if (this.pos !== this.bytes.length) {
      this.fail(`${this.bytes.length - this.pos} trailing byte(s) after the end of the encoding`);
    }
  }
}
