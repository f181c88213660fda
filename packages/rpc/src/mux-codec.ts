/**
 * Hand-written protobuf encoding and decoding of the mux stream messages (PeerService.Channel,
 * KVService.Pipeline and any message following the same convention, see mux-wire.ts) for the
 * mux-tcp transport. protobuf-es's reflective toBinary / fromBinary were ~8% of a server's
 * CPU and ~19% of the bench client's under YCSB A: a writer forked per nested message, a
 * create() per decoded message, a field table walked per field.
 *
 * Wire-identical to protobuf-es, by construction and by test (mux-codec.test.ts compares
 * bytes and decoded messages on random messages): fields in number order, proto3 defaults
 * skipped, set oneof cases and message fields written even when empty. The envelope (request,
 * call and reply frames) is handled here for every body; the bodies that carry the traffic
 * (replica reads and writes, pipelined puts, gets and deletes, errors) have codecs of their own;
 * any other body goes through protobuf-es. Decoding falls back to protobuf-es for the whole
 * message on anything this code does not expect (an unknown field, a field repeated where
 * protobuf would merge, a malformed varint, ...), so malformed input fails exactly as before.
 */
import {
  type DescMessage,
  fromBinary,
  type Message,
  ScalarType,
  toBinary,
} from "@bufbuild/protobuf";

const LEN = 2;
const VARINT = 0;

/** Thrown inside a decode to hand the whole message to protobuf-es. */
class Fallback extends Error {}
const FALLBACK = new Fallback("fall back to protobuf-es");

/** As protobuf-es decodes: a leading U+FEFF is text; invalid UTF-8 goes to it (FALLBACK). */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// ---------------------------------------------------------------- sizes

function varintSize(n: number): number {
  // n is a uint32 here.
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Size of a length-delimited field of `n` bytes with a one-byte tag. */
function lenFieldSize(n: number): number {
  return 1 + varintSize(n) + n;
}

// ---------------------------------------------------------------- writer

class Writer {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
  ) {
    this.pos = start;
  }

  varint(n: number): void {
    const buf = this.buf;
    while (n > 0x7f) {
      buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[this.pos++] = n;
  }

  /** A 64-bit varint from its two's complement halves. */
  varint64(lo: number, hi: number): void {
    const buf = this.buf;
    while (hi !== 0 || lo > 0x7f || lo < 0) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[this.pos++] = lo;
  }

  tag(no: number, wireType: number): void {
    this.varint((no << 3) | wireType);
  }

  bytes(no: number, b: Uint8Array): void {
    this.tag(no, LEN);
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(no: number, s: string, byteLength: number): void {
    this.tag(no, LEN);
    this.varint(byteLength);
    this.pos += this.buf.write(s, this.pos, byteLength, "utf8");
  }
}

// ---------------------------------------------------------------- reader

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** The low 32 bits of a varint of up to 10 bytes (protobuf's varint32), signed. */
  varint32(): number {
    const buf = this.buf;
    if (this.pos < this.end) {
      const b = buf[this.pos]!;
      if (b < 0x80) {
        this.pos++;
        return b;
      }
    }
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.end) throw FALLBACK;
      const b = buf[this.pos++]!;
      result |= (b & 0x7f) << shift;
      if (b < 0x80) return result;
    }
    // Bytes 6-10 only carry bits above 32.
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) throw FALLBACK;
      if (buf[this.pos++]! < 0x80) return result;
    }
    throw FALLBACK;
  }

  uint32(): number {
    return this.varint32() >>> 0;
  }

  /** A varint as a signed 64-bit bigint (int64). */
  int64(): bigint {
    const start = this.pos;
    const buf = this.buf;
    // Up to 7 bytes (49 bits) fit a double exactly.
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) throw FALLBACK;
      const b = buf[this.pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return BigInt(value);
      scale *= 128;
    }
    this.pos = start;
    let big = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end || shift > 63n) throw FALLBACK;
      const b = buf[this.pos++]!;
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7n;
    }
    return BigInt.asIntN(64, big);
  }

  bool(): boolean {
    const start = this.pos;
    if (this.varint32() !== 0) return true;
    // A nonzero bit above 32 also means true.
    for (let i = start; i < this.pos; i++) if ((this.buf[i]! & 0x7f) !== 0) return true;
    return false;
  }

  /** The end of a length-delimited field's contents; pos moves to its start. */
  lenEnd(): number {
    const n = this.varint32() >>> 0;
    const end = this.pos + n;
    if (end > this.end) throw FALLBACK;
    return end;
  }

  bytes(): Uint8Array {
    const end = this.lenEnd();
    const b = this.buf.subarray(this.pos, end);
    this.pos = end;
    return b;
  }

  string(): string {
    const b = this.bytes();
    try {
      return utf8.decode(b);
    } catch {
      throw FALLBACK;
    }
  }

  /** A nested message read by `read`, which must end exactly at its length. */
  message<T>(read: (r: Reader, end: number) => T): T {
    const end = this.lenEnd();
    const m = read(this, end);
    if (this.pos !== end) throw FALLBACK;
    return m;
  }
}

// ---------------------------------------------------------------- field helpers

type Obj = Record<string, unknown>;

/** A body codec: the size of its encoding, writing it, reading it (throws FALLBACK). */
interface BodyCodec {
  readonly typeName: string;
  readonly fields: readonly FieldSpec[];
  size(m: Obj): number;
  write(w: Writer, m: Obj): void;
  /** Reads the message's fields up to `end`; throws FALLBACK on anything unexpected. */
  read(r: Reader, end: number): Obj;
}

type FieldKind = "bytes" | "string" | "uint32" | "bool" | "enum" | "int64" | "message";

interface FieldSpec {
  readonly no: number;
  readonly name: string;
  readonly kind: FieldKind;
  /** proto3 `optional`: written whenever set, absent from the object when not on the wire. */
  readonly optional?: boolean;
  readonly repeated?: boolean;
  /** For kind "message". */
  readonly codec?: BodyCodec;
}

function scalarSize(kind: FieldKind, v: unknown): number {
  switch (kind) {
    case "bytes":
      return lenFieldSize((v as Uint8Array).length);
    case "string":
      return lenFieldSize(Buffer.byteLength(v as string, "utf8"));
    case "uint32":
      return 1 + varintSize((v as number) >>> 0);
    case "bool":
      return 2;
    case "enum": {
      const n = v as number;
      return n < 0 ? 11 : 1 + varintSize(n);
    }
    case "int64":
      return 1 + int64Size(v as bigint);
    default:
      throw new Error(`no scalar size for ${kind}`);
  }
}

const TWO_32 = 4294967296;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function int64Size(v: bigint): number {
  if (v >= 0n && v <= MAX_SAFE) {
    // Timestamps in ms: number arithmetic, no BigInt shifts.
    let n = Number(v);
    let size = 1;
    while (n >= 128) {
      n = Math.floor(n / 128);
      size++;
    }
    return size;
  }
  let u = BigInt.asUintN(64, v);
  let n = 1;
  while (u > 0x7fn) {
    u >>= 7n;
    n++;
  }
  return n;
}

function isDefault(kind: FieldKind, v: unknown): boolean {
  switch (kind) {
    case "bytes":
      return (v as Uint8Array).length === 0;
    case "string":
      return (v as string).length === 0;
    case "uint32":
    case "enum":
      return v === 0;
    case "bool":
      return v === false;
    case "int64":
      return v === 0n;
    default:
      return v === undefined;
  }
}

function writeScalar(w: Writer, f: FieldSpec, v: unknown): void {
  switch (f.kind) {
    case "bytes":
      w.bytes(f.no, v as Uint8Array);
      return;
    case "string":
      w.string(f.no, v as string, Buffer.byteLength(v as string, "utf8"));
      return;
    case "uint32":
      w.tag(f.no, VARINT);
      w.varint((v as number) >>> 0);
      return;
    case "bool":
      w.tag(f.no, VARINT);
      w.varint(v ? 1 : 0);
      return;
    case "enum": {
      w.tag(f.no, VARINT);
      const n = v as number;
      if (n >= 0) w.varint(n);
      else w.varint64(n | 0, -1);
      return;
    }
    case "int64": {
      w.tag(f.no, VARINT);
      const big = v as bigint;
      if (big >= 0n && big <= MAX_SAFE) {
        const n = Number(big);
        w.varint64(n % TWO_32, Math.floor(n / TWO_32));
      } else {
        const u = BigInt.asUintN(64, big);
        w.varint64(Number(u & 0xffffffffn), Number(u >> 32n));
      }
      return;
    }
    default:
      throw new Error(`no scalar writer for ${f.kind}`);
  }
}

/**
 * A codec for a flat message described by `fields` (in field-number order), producing
 * objects shaped as protobuf-es's: `$typeName` first, then every implicit-presence field with
 * its default, repeated fields as arrays, message and optional fields only when present.
 */
function messageCodec(
  typeName: string,
  fields: readonly FieldSpec[],
  read: (r: Reader, end: number) => Obj,
): BodyCodec {
  const byNo: (FieldSpec | undefined)[] = [];
  for (const f of fields) byNo[f.no] = f;
  const fieldSize = (f: FieldSpec, v: unknown): number => {
    if (f.kind === "message") return lenFieldSize(f.codec!.size(v as Obj));
    return scalarSize(f.kind, v);
  };
  const codec: BodyCodec = {
    typeName,
    fields,
    read,
    size(m) {
      let n = 0;
      for (const f of fields) {
        const v = m[f.name];
        if (f.repeated) {
          for (const item of v as unknown[]) n += fieldSize(f, item);
        } else if (f.kind === "message" || f.optional) {
          if (v !== undefined) n += fieldSize(f, v);
        } else if (!isDefault(f.kind, v)) {
          n += fieldSize(f, v);
        }
      }
      return n;
    },
    write(w, m) {
      for (const f of fields) {
        const v = m[f.name];
        if (f.repeated) {
          for (const item of v as unknown[]) writeField(w, f, item);
        } else if (f.kind === "message" || f.optional) {
          if (v !== undefined) writeField(w, f, v);
        } else if (!isDefault(f.kind, v)) {
          writeField(w, f, v);
        }
      }
    },
  };
  return codec;
}

function writeField(w: Writer, f: FieldSpec, v: unknown): void {
  if (f.kind === "message") {
    const codec = f.codec!;
    w.tag(f.no, LEN);
    w.varint(codec.size(v as Obj));
    codec.write(w, v as Obj);
  } else {
    writeScalar(w, f, v);
  }
}

// ---------------------------------------------------------------- the hot bodies

// Tags (field number << 3 | wire type) the readers expect.
const F1_VARINT = 0x08;
const F1_LEN = 0x0a;
const F2_VARINT = 0x10;
const F2_LEN = 0x12;
const F3_VARINT = 0x18;
const F3_LEN = 0x1a;
const F4_VARINT = 0x20;
const F4_LEN = 0x22;

/**
 * The value of an absent bytes field, shared: a typed array allocation per absent field was
 * most of a PutRequest's decode time. Zero-length, so nothing can be written into it.
 */
const EMPTY_BYTES = new Uint8Array(0);
const empty = () => EMPTY_BYTES;

type Options = {
  $typeName: string;
  consistency: number;
  timeoutMs: number;
  conflictPolicy: number;
};

const requestOptions = messageCodec(
  "distkv.v1.RequestOptions",
  [
    { no: 1, name: "consistency", kind: "enum" },
    { no: 2, name: "timeoutMs", kind: "uint32" },
    { no: 3, name: "conflictPolicy", kind: "enum" },
  ],
  (r, end): Options => {
    let consistency = 0;
    let timeoutMs = 0;
    let conflictPolicy = 0;
    while (r.pos < end) {
      const tag = r.varint32();
      if (tag === F1_VARINT) consistency = r.varint32();
      else if (tag === F2_VARINT) timeoutMs = r.uint32();
      else if (tag === F3_VARINT) conflictPolicy = r.varint32();
      else throw FALLBACK;
    }
    return { $typeName: "distkv.v1.RequestOptions", consistency, timeoutMs, conflictPolicy };
  },
);

/** An optional RequestOptions field: a second occurrence would be merged by protobuf-es. */
function readOptions(r: Reader, seen: Obj | undefined): Obj {
  if (seen !== undefined) throw FALLBACK;
  return r.message(requestOptions.read);
}

const sibling = messageCodec(
  "distkv.v1.Sibling",
  [
    { no: 1, name: "value", kind: "bytes" },
    { no: 2, name: "timestampMs", kind: "int64" },
  ],
  (r, end) => {
    let value: Uint8Array | undefined;
    let timestampMs = 0n;
    while (r.pos < end) {
      const tag = r.varint32();
      if (tag === F1_LEN) value = r.bytes();
      else if (tag === F2_VARINT) timestampMs = r.int64();
      else throw FALLBACK;
    }
    return { $typeName: "distkv.v1.Sibling", value: value ?? empty(), timestampMs };
  },
);

function errorCodec(typeName: string): BodyCodec {
  return messageCodec(
    typeName,
    [
      { no: 1, name: "code", kind: "uint32" },
      { no: 2, name: "message", kind: "string" },
    ],
    (r, end) => {
      let code = 0;
      let message = "";
      while (r.pos < end) {
        const tag = r.varint32();
        if (tag === F1_VARINT) code = r.uint32();
        else if (tag === F2_LEN) message = r.string();
        else throw FALLBACK;
      }
      return { $typeName: typeName, code, message };
    },
  );
}

/** Bytes, context and count: PutResponse and DeleteResponse. */
function ackCodec(typeName: string): BodyCodec {
  return messageCodec(
    typeName,
    [
      { no: 1, name: "context", kind: "bytes" },
      { no: 2, name: "replicasAcked", kind: "uint32" },
    ],
    (r, end) => {
      let context: Uint8Array | undefined;
      let replicasAcked = 0;
      while (r.pos < end) {
        const tag = r.varint32();
        if (tag === F1_LEN) context = r.bytes();
        else if (tag === F2_VARINT) replicasAcked = r.uint32();
        else throw FALLBACK;
      }
      return { $typeName: typeName, context: context ?? empty(), replicasAcked };
    },
  );
}

const BODIES: BodyCodec[] = [
  messageCodec(
    "distkv.v1.ReplicaWriteRequest",
    [
      { no: 1, name: "key", kind: "bytes" },
      { no: 2, name: "siblings", kind: "bytes" },
      { no: 3, name: "hintTargetNodeId", kind: "string", optional: true },
    ],
    (r, end) => {
      let key: Uint8Array | undefined;
      let siblings: Uint8Array | undefined;
      let hint: string | undefined;
      while (r.pos < end) {
        const tag = r.varint32();
        if (tag === F1_LEN) key = r.bytes();
        else if (tag === F2_LEN) siblings = r.bytes();
        else if (tag === F3_LEN) hint = r.string();
        else throw FALLBACK;
      }
      const typeName = "distkv.v1.ReplicaWriteRequest";
      return hint === undefined
        ? { $typeName: typeName, key: key ?? empty(), siblings: siblings ?? empty() }
        : {
            $typeName: typeName,
            key: key ?? empty(),
            siblings: siblings ?? empty(),
            hintTargetNodeId: hint,
          };
    },
  ),
  messageCodec("distkv.v1.ReplicaWriteResponse", [], (r, end) => {
    if (r.pos !== end) throw FALLBACK;
    return { $typeName: "distkv.v1.ReplicaWriteResponse" };
  }),
  messageCodec(
    "distkv.v1.ReplicaReadRequest",
    [{ no: 1, name: "key", kind: "bytes" }],
    (r, end) => {
      let key: Uint8Array | undefined;
      while (r.pos < end) {
        if (r.varint32() === F1_LEN) key = r.bytes();
        else throw FALLBACK;
      }
      return { $typeName: "distkv.v1.ReplicaReadRequest", key: key ?? empty() };
    },
  ),
  messageCodec(
    "distkv.v1.ReplicaReadResponse",
    [
      { no: 1, name: "found", kind: "bool" },
      { no: 2, name: "siblings", kind: "bytes" },
    ],
    (r, end) => {
      let found = false;
      let siblings: Uint8Array | undefined;
      while (r.pos < end) {
        const tag = r.varint32();
        if (tag === F1_VARINT) found = r.bool();
        else if (tag === F2_LEN) siblings = r.bytes();
        else throw FALLBACK;
      }
      return { $typeName: "distkv.v1.ReplicaReadResponse", found, siblings: siblings ?? empty() };
    },
  ),
  errorCodec("distkv.v1.PeerError"),
  errorCodec("distkv.v1.PipelineError"),
  messageCodec(
    "distkv.v1.PutRequest",
    [
      { no: 1, name: "key", kind: "bytes" },
      { no: 2, name: "value", kind: "bytes" },
      { no: 3, name: "context", kind: "bytes" },
      { no: 4, name: "options", kind: "message", codec: requestOptions },
    ],
    (r, end) => {
      let key: Uint8Array | undefined;
      let value: Uint8Array | undefined;
      let context: Uint8Array | undefined;
      let options: Obj | undefined;
      while (r.pos < end) {
        const tag = r.varint32();
        if (tag === F1_LEN) key = r.bytes();
        else if (tag === F2_LEN) value = r.bytes();
        else if (tag === F3_LEN) context = r.bytes();
        else if (tag === F4_LEN) options = readOptions(r, options);
        else throw FALLBACK;
      }
      const m = {
        $typeName: "distkv.v1.PutRequest",
        key: key ?? empty(),
        value: value ?? empty(),
        context: context ?? empty(),
      };
      return options === undefined ? m : { ...m, options };
    },
  ),
  ackCodec("distkv.v1.PutResponse"),
  messageCodec(
    "distkv.v1.GetRequest",
    [
      { no: 1, name: "key", kind: "bytes" },
      { no: 2, name: "options", kind: "message", codec: requestOptions },
    ],
    (r, end) => {
      let key: Uint8Array | undefined;
      let options: Obj | undefined;
      while (r.pos < end) {
        const tag = r.varint32();
        if (tag === F1_LEN) key = r.bytes();
        else if (tag === F2_LEN) options = readOptions(r, options);
        else throw FALLBACK;
      }
      const typeName = "distkv.v1.GetRequest";
      return options === undefined
        ? { $typeName: typeName, key: key ?? empty() }
        : { $typeName: typeName, key: key ?? empty(), options };
    },
  ),
  messageCodec(
    "distkv.v1.GetResponse",
    [
      { no: 1, name: "found", kind: "bool" },
      { no: 2, name: "siblings", kind: "message", repeated: true, codec: sibling },
      { no: 3, name: "context", kind: "bytes" },
      { no: 4, name: "replicasAnswered", kind: "uint32" },
    ],
    (r, end) => {
      let found = false;
      const siblings: Obj[] = [];
      let context: Uint8Array | undefined;
      let replicasAnswered = 0;
      while (r.pos < end) {
        const tag = r.varint32();
        if (tag === F1_VARINT) found = r.bool();
        else if (tag === F2_LEN) siblings.push(r.message(sibling.read));
        else if (tag === F3_LEN) context = r.bytes();
        else if (tag === F4_VARINT) replicasAnswered = r.uint32();
        else throw FALLBACK;
      }
      return {
        $typeName: "distkv.v1.GetResponse",
        found,
        siblings,
        context: context ?? empty(),
        replicasAnswered,
      };
    },
  ),
  messageCodec(
    "distkv.v1.DeleteRequest",
    [
      { no: 1, name: "key", kind: "bytes" },
      { no: 2, name: "context", kind: "bytes" },
      { no: 3, name: "options", kind: "message", codec: requestOptions },
    ],
    (r, end) => {
      let key: Uint8Array | undefined;
      let context: Uint8Array | undefined;
      let options: Obj | undefined;
      while (r.pos < end) {
        const tag = r.varint32();
        if (tag === F1_LEN) key = r.bytes();
        else if (tag === F2_LEN) context = r.bytes();
        else if (tag === F3_LEN) options = readOptions(r, options);
        else throw FALLBACK;
      }
      const m = {
        $typeName: "distkv.v1.DeleteRequest",
        key: key ?? empty(),
        context: context ?? empty(),
      };
      return options === undefined ? m : { ...m, options };
    },
  ),
  ackCodec("distkv.v1.DeleteResponse"),
];

/** Body codecs by message type name. */
const BODY_CODECS = new Map(BODIES.map((c) => [c.typeName, c]));

const SCALAR_OF: Partial<Record<FieldKind, ScalarType>> = {
  bytes: ScalarType.BYTES,
  string: ScalarType.STRING,
  uint32: ScalarType.UINT32,
  bool: ScalarType.BOOL,
  int64: ScalarType.INT64,
};
const IMPLICIT = 2;

/**
 * Whether a codec's fields are exactly the message's (numbers, names, types, presence), so a
 * proto change that this file does not follow turns the fast path off for that body instead
 * of corrupting it.
 */
function matchesDescriptor(codec: BodyCodec, desc: DescMessage): boolean {
  if (desc.typeName !== codec.typeName || desc.fields.length !== codec.fields.length) return false;
  return desc.fields.every((f) => {
    const spec = codec.fields.find((x) => x.no === f.number);
    if (spec === undefined || spec.name !== f.localName || f.oneof !== undefined) return false;
    if (f.fieldKind === "list") {
      return (
        spec.repeated === true &&
        f.listKind === "message" &&
        spec.codec !== undefined &&
        matchesDescriptor(spec.codec, f.message)
      );
    }
    if (spec.repeated === true) return false;
    switch (f.fieldKind) {
      case "message":
        return spec.codec !== undefined && matchesDescriptor(spec.codec, f.message);
      case "enum":
        return spec.kind === "enum" && f.presence === IMPLICIT;
      case "scalar":
        return (
          SCALAR_OF[spec.kind] === f.scalar &&
          !f.longAsString &&
          (spec.optional === true) === (f.presence !== IMPLICIT)
        );
      default:
        return false;
    }
  });
}

// ---------------------------------------------------------------- the envelope

/** A oneof case of a frame's `body`: its field number and message type. */
interface Case {
  readonly no: number;
  readonly name: string;
  readonly desc: DescMessage;
  /** Undefined: encoded and decoded by protobuf-es. */
  readonly codec: BodyCodec | undefined;
}

interface FrameLayout {
  readonly typeName: string;
  /** Call frames: id, timeout_ms, cancel; reply frames: id only. */
  readonly isCall: boolean;
  readonly byName: Map<string, Case>;
  readonly byNo: (Case | undefined)[];
}

function frameLayout(desc: DescMessage, isCall: boolean): FrameLayout | undefined {
  const want = isCall ? ["id", "timeoutMs", "cancel"] : ["id"];
  const plain = desc.fields.filter((f) => f.oneof === undefined);
  if (
    plain.map((f) => `${f.localName}:${f.number}`).join() !==
    want.map((n, i) => `${n}:${i + 1}`).join()
  ) {
    return undefined;
  }
  if (desc.oneofs.length !== 1 || desc.oneofs[0]!.localName !== "body") return undefined;
  const byName = new Map<string, Case>();
  const byNo: (Case | undefined)[] = [];
  for (const f of desc.oneofs[0]!.fields) {
    if (f.fieldKind !== "message") return undefined;
    const known = BODY_CODECS.get(f.message.typeName);
    const codec = known !== undefined && matchesDescriptor(known, f.message) ? known : undefined;
    const c: Case = { no: f.number, name: f.localName, desc: f.message, codec };
    byName.set(f.localName, c);
    byNo[f.number] = c;
  }
  return { typeName: desc.typeName, isCall, byName, byNo };
}

export interface FastMuxCodec {
  /**
   * The message's protobuf encoding, written after `headroom` bytes left for the caller (the
   * envelope header), in one buffer of exactly that size; undefined when the message carries
   * unknown fields to write back (protobuf-es knows where they go).
   */
  encode(message: unknown, headroom: number): Buffer | undefined;
  /** Decodes a body; malformed input throws as protobuf-es's fromBinary does. */
  decode(bytes: Uint8Array): Message;
}

const codecs = new WeakMap<DescMessage, FastMuxCodec | null>();

/**
 * The hand-written codec for a mux stream message (`repeated <Frame> calls = 1` or
 * `repeated <Frame> replies = 1` following the mux convention), or undefined for any other
 * message type.
 */
export function fastMuxCodec(desc: DescMessage): FastMuxCodec | undefined {
  let codec = codecs.get(desc);
  if (codec === undefined) {
    codec = makeCodec(desc) ?? null;
    codecs.set(desc, codec);
  }
  return codec ?? undefined;
}

function makeCodec(desc: DescMessage): FastMuxCodec | undefined {
  if (desc.fields.length !== 1 || desc.oneofs.length !== 0) return undefined;
  const list = desc.fields[0]!;
  if (list.number !== 1 || list.fieldKind !== "list" || list.listKind !== "message") {
    return undefined;
  }
  const listName = list.localName;
  if (listName !== "calls" && listName !== "replies") return undefined;
  const layout = frameLayout(list.message, listName === "calls");
  if (layout === undefined) return undefined;
  const typeName = desc.typeName;

  /** Size of one frame's contents, and of its body (bodySizes gets one entry per frame). */
  const frameSize = (frame: Obj, bodySizes: number[], encoded: (Uint8Array | undefined)[]) => {
    let n = 0;
    const id = frame.id as number;
    if (id !== 0) n += 1 + varintSize(id >>> 0);
    if (layout.isCall) {
      const t = frame.timeoutMs as number;
      if (t !== 0) n += 1 + varintSize(t >>> 0);
      if (frame.cancel === true) n += 2;
    }
    const body = frame.body as { case: string | undefined; value?: Obj };
    if (body.case === undefined) {
      bodySizes.push(-1);
      encoded.push(undefined);
      return n;
    }
    const c = layout.byName.get(body.case);
    if (c === undefined) throw new Error(`unknown oneof case ${body.case}`);
    const value = body.value!;
    let size: number;
    if (c.codec !== undefined && value.$unknown === undefined) {
      size = c.codec.size(value);
      encoded.push(undefined);
    } else {
      const bytes = toBinary(c.desc, value as Message);
      size = bytes.length;
      encoded.push(bytes);
    }
    bodySizes.push(size);
    return n + (c.no < 16 ? 1 : 2) + varintSize(size) + size;
  };

  const decodeFast = (bytes: Uint8Array): Message => {
    const r = new Reader(bytes, 0, bytes.length);
    const frames: Obj[] = [];
    while (r.pos < r.end) {
      if (r.varint32() !== ((1 << 3) | LEN)) throw FALLBACK;
      const end = r.lenEnd();
      const frame: Obj = layout.isCall
        ? {
            $typeName: layout.typeName,
            id: 0,
            timeoutMs: 0,
            cancel: false,
            body: { case: undefined },
          }
        : { $typeName: layout.typeName, id: 0, body: { case: undefined } };
      let haveBody = false;
      while (r.pos < end) {
        const tag = r.varint32() >>> 0;
        const no = tag >>> 3;
        const wireType = tag & 7;
        if (no === 1 && wireType === VARINT) frame.id = r.varint32() >>> 0;
        else if (layout.isCall && no === 2 && wireType === VARINT) {
          frame.timeoutMs = r.varint32() >>> 0;
        } else if (layout.isCall && no === 3 && wireType === VARINT) frame.cancel = r.bool();
        else {
          const c = layout.byNo[no];
          if (c === undefined || wireType !== LEN || haveBody) throw FALLBACK;
          haveBody = true;
          const bodyEnd = r.lenEnd();
          let value: Obj;
          if (c.codec !== undefined) {
            value = c.codec.read(r, bodyEnd);
            if (r.pos !== bodyEnd) throw FALLBACK;
          } else {
            try {
              value = fromBinary(c.desc, bytes.subarray(r.pos, bodyEnd), {
                readUnknownFields: false,
              }) as unknown as Obj;
            } catch {
              throw FALLBACK; // the error to report is the whole message's
            }
            r.pos = bodyEnd;
          }
          frame.body = { case: c.name, value };
        }
      }
      if (r.pos !== end) throw FALLBACK;
      frames.push(frame);
    }
    return { $typeName: typeName, [listName]: frames } as unknown as Message;
  };

  return {
    encode(message, headroom) {
      const frames = (message as Obj)[listName] as Obj[];
      if ((message as Obj).$unknown !== undefined || frames.some((f) => f.$unknown !== undefined)) {
        return undefined;
      }
      const frameSizes: number[] = [];
      const bodySizes: number[] = [];
      const encoded: (Uint8Array | undefined)[] = [];
      let total = 0;
      for (const frame of frames) {
        const s = frameSize(frame, bodySizes, encoded);
        frameSizes.push(s);
        total += lenFieldSize(s);
      }
      const buf = Buffer.allocUnsafe(headroom + total);
      const w = new Writer(buf, headroom);
      for (let i = 0; i < frames.length; i++) {
        const frame = frames[i]!;
        w.tag(1, LEN);
        w.varint(frameSizes[i]!);
        const id = frame.id as number;
        if (id !== 0) {
          w.tag(1, VARINT);
          w.varint(id >>> 0);
        }
        if (layout.isCall) {
          const t = frame.timeoutMs as number;
          if (t !== 0) {
            w.tag(2, VARINT);
            w.varint(t >>> 0);
          }
          if (frame.cancel === true) {
            w.tag(3, VARINT);
            w.varint(1);
          }
        }
        const body = frame.body as { case: string | undefined; value?: Obj };
        if (body.case === undefined) continue;
        const c = layout.byName.get(body.case)!;
        w.tag(c.no, LEN);
        w.varint(bodySizes[i]!);
        const bytes = encoded[i];
        if (bytes !== undefined) {
          buf.set(bytes, w.pos);
          w.pos += bytes.length;
        } else {
          c.codec!.write(w, body.value!);
        }
      }
      if (w.pos !== buf.length) throw new Error("mux codec: size and encoding disagree");
      return buf;
    },

    decode(bytes) {
      try {
        return decodeFast(bytes);
      } catch (e) {
        if (!(e instanceof Fallback)) throw e;
        return fromBinary(desc, bytes, { readUnknownFields: false });
      }
    },
  };
}

/** The body types of a mux stream message that have a codec here (tests: none fell back). */
export function hotBodyTypes(desc: DescMessage): string[] {
  const list = desc.fields[0];
  if (list === undefined || list.fieldKind !== "list" || list.listKind !== "message") return [];
  const layout = frameLayout(list.message, list.localName === "calls");
  if (layout === undefined) return [];
  return [...layout.byName.values()]
    .filter((c) => c.codec !== undefined)
    .map((c) => c.desc.typeName)
    .sort();
}
