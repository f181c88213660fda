import { GossipDecodeError } from "./errors.js";
import { type Liveness, MAX_ADDRESS_BYTES, MAX_ID_BYTES, type MemberPhase } from "./member.js";
import type { GossipMessage, MemberState } from "./messages.js";

/**
 * The wire format: compact binary, independent of protobuf so the package stands alone (the
 * server carries these bytes opaquely inside its peer channel).
 *
 *   datagram := version:u8 message*
 *   message  := type:u8 length:varint body[length]
 *
 * Integers are unsigned LEB128 varints (at most 8 bytes, values up to 2^53 - 1); strings and
 * byte arrays are a varint length followed by the bytes (UTF-8 for strings). A receiver skips
 * message types it does not know, so a later version can add types without breaking older
 * nodes; changing a body's layout needs a new version byte.
 *
 * Everything in this file is part of the wire format: do not change the meaning of a constant.
 */
export const GOSSIP_WIRE_VERSION = 1;

const TYPE_CODES = {
  ping: 1,
  "indirect-ping": 2,
  ack: 3,
  nack: 4,
  alive: 5,
  suspect: 6,
  dead: 7,
  left: 8,
  "push-pull": 9,
} as const satisfies Record<GossipMessage["type"], number>;

const LIVENESS_CODES: readonly Liveness[] = ["alive", "suspect", "dead", "left"];
const PHASE_CODES: readonly MemberPhase[] = ["joining", "normal", "leaving"];

const FLAG_REPLY = 1;
const FLAG_JOIN = 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

class Writer {
  private buf: Uint8Array;
  pos = 0;
  constructor(size = 64) {
    this.buf = new Uint8Array(size);
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }
  varint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`cannot encode ${n} as a varint`);
    this.ensure(8);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }
  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  string(s: string): void {
    // Ids and addresses are nearly always ASCII: write them without a TextEncoder allocation.
    const n = s.length;
    if (n < 0x80) {
      this.ensure(n + 1);
      const start = this.pos;
      this.buf[this.pos++] = n;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          this.pos = start;
          this.bytes(encoder.encode(s));
          return;
        }
        this.buf[this.pos++] = c;
      }
      return;
    }
    this.bytes(encoder.encode(s));
  }
  reset(): void {
    this.pos = 0;
  }
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

class Reader {
  constructor(
    private readonly buf: Uint8Array,
    public pos: number,
    private readonly end: number,
  ) {}
  get remaining(): number {
    return this.end - this.pos;
  }
  byte(): number {
    if (this.pos >= this.end) throw new GossipDecodeError("truncated message");
    return this.buf[this.pos++]!;
  }
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(value)) throw new GossipDecodeError("varint out of range");
        return value;
      }
      scale *= 0x80;
    }
    throw new GossipDecodeError("varint longer than 8 bytes");
  }
  bytes(max: number, what: string): Uint8Array {
    const n = this.varint();
    if (n > max) throw new GossipDecodeError(`${what} is ${n} bytes, more than ${max}`);
    if (n > this.remaining) throw new GossipDecodeError(`truncated ${what}`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  string(max: number, what: string): string {
    const raw = this.bytes(max, what);
    if (raw.length === 0) throw new GossipDecodeError(`empty ${what}`);
    if (raw.length <= 64) {
      let ascii = true;
      for (let i = 0; i < raw.length; i++) {
        if (raw[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return String.fromCharCode.apply(null, raw as unknown as number[]);
    }
    try {
      return decoder.decode(raw);
    } catch (cause) {
      throw new GossipDecodeError(`${what} is not valid UTF-8`, { cause });
    }
  }
  id(what: string): string {
    return this.string(MAX_ID_BYTES, what);
  }
  address(what: string): string {
    return this.string(MAX_ADDRESS_BYTES, what);
  }
  liveness(): Liveness {
    const code = this.byte();
    const liveness = LIVENESS_CODES[code];
    if (liveness === undefined) throw new GossipDecodeError(`unknown liveness code ${code}`);
    return liveness;
  }
  phase(): MemberPhase {
    const code = this.byte();
    const phase = PHASE_CODES[code];
    if (phase === undefined) throw new GossipDecodeError(`unknown phase code ${code}`);
    return phase;
  }
}

function writeBody(w: Writer, m: GossipMessage): void {
  switch (m.type) {
    case "ping":
      w.varint(m.seq);
      w.string(m.targetId);
      w.string(m.sourceId);
      w.string(m.sourceAddress);
      return;
    case "indirect-ping":
      w.varint(m.seq);
      w.string(m.targetId);
      w.string(m.targetAddress);
      w.string(m.sourceId);
      w.string(m.sourceAddress);
      w.varint(Math.ceil(m.timeoutMs));
      return;
    case "ack":
    case "nack":
      w.varint(m.seq);
      return;
    case "alive":
      w.string(m.id);
      w.string(m.address);
      w.varint(m.incarnation);
      w.byte(PHASE_CODES.indexOf(m.phase));
      w.bytes(m.metadata);
      return;
    case "suspect":
    case "dead":
      w.string(m.id);
      w.varint(m.incarnation);
      w.string(m.from);
      return;
    case "left":
      w.string(m.id);
      w.varint(m.incarnation);
      return;
    case "push-pull":
      w.string(m.sourceId);
      w.varint(m.nonce);
      w.byte((m.reply ? FLAG_REPLY : 0) | (m.join ? FLAG_JOIN : 0));
      w.varint(m.members.length);
      for (const s of m.members) {
        w.string(s.id);
        w.string(s.address);
        w.byte(LIVENESS_CODES.indexOf(s.liveness));
        w.byte(PHASE_CODES.indexOf(s.phase));
        w.varint(s.incarnation);
        w.bytes(s.metadata);
      }
      return;
  }
}

function readBody(r: Reader, type: number): GossipMessage | undefined {
  switch (type) {
    case TYPE_CODES.ping:
      return {
        type: "ping",
        seq: r.varint(),
        targetId: r.id("ping target id"),
        sourceId: r.id("ping source id"),
        sourceAddress: r.address("ping source address"),
      };
    case TYPE_CODES["indirect-ping"]:
      return {
        type: "indirect-ping",
        seq: r.varint(),
        targetId: r.id("indirect ping target id"),
        targetAddress: r.address("indirect ping target address"),
        sourceId: r.id("indirect ping source id"),
        sourceAddress: r.address("indirect ping source address"),
        timeoutMs: r.varint(),
      };
    case TYPE_CODES.ack:
      return { type: "ack", seq: r.varint() };
    case TYPE_CODES.nack:
      return { type: "nack", seq: r.varint() };
    case TYPE_CODES.alive:
      return {
        type: "alive",
        id: r.id("alive id"),
        address: r.address("alive address"),
        incarnation: r.varint(),
        phase: r.phase(),
        metadata: r.bytes(Number.MAX_SAFE_INTEGER, "metadata").slice(),
      };
    case TYPE_CODES.suspect:
      return {
        type: "suspect",
        id: r.id("suspect id"),
        incarnation: r.varint(),
        from: r.id("suspect from"),
      };
    case TYPE_CODES.dead:
      return {
        type: "dead",
        id: r.id("dead id"),
        incarnation: r.varint(),
        from: r.id("dead from"),
      };
    case TYPE_CODES.left:
      return { type: "left", id: r.id("left id"), incarnation: r.varint() };
    case TYPE_CODES["push-pull"]: {
      const sourceId = r.id("push-pull source id");
      const nonce = r.varint();
      const flags = r.byte();
      const count = r.varint();
      // Each member takes at least 8 bytes: reject counts that cannot fit before allocating.
      if (count * 8 > r.remaining) throw new GossipDecodeError(`push-pull claims ${count} members`);
      const members: MemberState[] = [];
      for (let i = 0; i < count; i++) {
        members.push({
          id: r.id("member id"),
          address: r.address("member address"),
          liveness: r.liveness(),
          phase: r.phase(),
          incarnation: r.varint(),
          metadata: r.bytes(Number.MAX_SAFE_INTEGER, "metadata").slice(),
        });
      }
      return {
        type: "push-pull",
        sourceId,
        nonce,
        reply: (flags & FLAG_REPLY) !== 0,
        join: (flags & FLAG_JOIN) !== 0,
        members,
      };
    }
    default:
      return undefined;
  }
}

/** Encodes one message as it appears inside a datagram (type, length, body). */
export function encodeMessage(message: GossipMessage): Uint8Array {
  // The body goes into a reused scratch buffer; the result is one exact-size allocation.
  scratch.reset();
  writeBody(scratch, message);
  const body = scratch.view();
  let lengthBytes = 1;
  for (let n = body.length; n >= 0x80; n = Math.floor(n / 0x80)) lengthBytes++;
  const w = new Writer(1 + lengthBytes + body.length);
  w.byte(TYPE_CODES[message.type]);
  w.bytes(body);
  return w.view();
}

const scratch = new Writer(1024);

/** A datagram from messages already encoded by `encodeMessage`. */
export function assembleDatagram(parts: readonly Uint8Array[]): Uint8Array {
  let size = 1;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  out[0] = GOSSIP_WIRE_VERSION;
  let pos = 1;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Encodes messages into one datagram. */
export function encodeDatagram(messages: readonly GossipMessage[]): Uint8Array {
  return assembleDatagram(messages.map(encodeMessage));
}

/**
 * Decodes a datagram. Messages of unknown types are skipped; anything malformed (wrong version,
 * truncation, bad UTF-8, out-of-range numbers, trailing bytes inside a message) throws
 * GossipDecodeError.
 */
export function decodeDatagram(bytes: Uint8Array): GossipMessage[] {
  if (bytes.length === 0) throw new GossipDecodeError("empty datagram");
  if (bytes[0] !== GOSSIP_WIRE_VERSION) {
    throw new GossipDecodeError(
      `unsupported wire version ${bytes[0]} (this node speaks ${GOSSIP_WIRE_VERSION})`,
    );
  }
  const out: GossipMessage[] = [];
  const frame = new Reader(bytes, 1, bytes.length);
  while (frame.remaining > 0) {
    const type = frame.byte();
    const length = frame.varint();
    if (length > frame.remaining) throw new GossipDecodeError("truncated message");
    const body = new Reader(bytes, frame.pos, frame.pos + length);
    frame.pos += length;
    const message = readBody(body, type);
    if (message === undefined) continue;
    if (body.remaining !== 0) {
      throw new GossipDecodeError(
        `${body.remaining} unexpected bytes after a ${message.type} message`,
      );
    }
    out.push(message);
  }
  return out;
}
