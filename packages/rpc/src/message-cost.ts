/**
 * Estimates, before a request message is decoded, how much memory decoding it will take
 * beyond its wire bytes, by walking the bytes as they arrive (push style, nothing buffered,
 * nothing allocated per field).
 *
 * Why: a message's wire size says little about its decoded size. Measured on Node 20 with
 * protobuf-es 2 (src/message-cost.test.ts repeats the measurement): a PipelineRequest of empty
 * call frames decodes to ~69x its wire size (2 wire bytes become a ~137-byte object), a batch
 * of 16-byte-key `get` calls to ~10x, while a 1 MiB value costs nothing extra (bytes fields
 * are views of the wire buffer). Limits that count wire bytes alone would let a 1 MiB request
 * take 70 MiB of heap.
 *
 * The binary estimate follows the schema: a message object per (sub)message, with its default
 * field values, a oneof object per set oneof, an array slot per repeated element, a view per
 * bytes field, UTF-16 storage per string, a BigInt per 64-bit integer. The constants sit a
 * little above what V8 was measured to use, so the estimate errs on the high side (the test
 * checks both bounds). Unknown fields cost nothing: the server decodes with
 * `readUnknownFields: false`.
 *
 * The JSON estimate has no schema: it counts the text, its parse (`JSON.parse` of the decoded
 * string) and a message-sized object per `{`, a slot per `[` and `,`.
 *
 * The walk mirrors protobuf-es's reader (known fields are read by their schema type whatever
 * their wire type says, a sub-message may overrun its length), so it also knows, before the
 * decoder runs, whether the decoder will reject the message and why: the server answers such
 * messages INVALID_ARGUMENT (Connect itself reports decode failures as INTERNAL). After the
 * point where a message stops being valid, every byte is charged at the worst-case rate, so
 * the estimate stays an upper bound whatever the bytes are.
 */
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";

/** V8 object header plus hidden class share, per decoded message object. */
const MESSAGE_BASE_BYTES = 56;
/** Per field slot in a message object. */
const FIELD_SLOT_BYTES = 8;
/** The `{ case, value }` object of a oneof (also its `{ case: undefined }` default). */
const ONEOF_BYTES = 40;
/** An array (repeated field), empty. */
const ARRAY_BYTES = 32;
/** One element slot in an array, with room for the array's growth. */
const ELEMENT_BYTES = 16;
/** A Uint8Array view (a bytes field, or its empty default). */
const VIEW_BYTES = 64;
/** A string's header; its characters take two bytes each at most. */
const STRING_BYTES = 32;
/** A BigInt (64-bit integer fields) or a heap number (doubles). */
const BOXED_NUMBER_BYTES = 32;
/** Deepest nesting the decoder accepts (protobuf-es's default recursion limit). */
const MAX_DEPTH = 100;

/** JSON: the decoded text may be two bytes per character, its parse as much again. */
const JSON_BYTES_PER_BYTE = 4;
/** JSON: an object from JSON.parse plus the message built from it. */
const JSON_OBJECT_BYTES = 400;
/** JSON: an array or an element or member slot. */
const JSON_SLOT_BYTES = 48;

/** Pushes request bytes through; `overheadBytes` is the decoded size beyond the wire bytes. */
export interface CostScanner {
  feed(chunk: Uint8Array): void;
  /** Estimated bytes that decoding what was fed so far allocates, beyond the bytes themselves. */
  readonly overheadBytes: number;
  /**
   * Call at the end of the message: undefined if the decoder will accept it, else the reason
   * it will not (a binary message that is not a valid encoding of its type: a bad tag or
   * varint, too deep, ending inside a field or a sub-message, invalid UTF-8 in a string). Once
   * the bytes stop following the format every further byte is charged at the worst measured
   * rate. The JSON scanner checks nothing (the decoder's own errors are clear).
   */
  finish(): string | undefined;
}

export type PayloadFormat = "binary" | "json";

/** A scanner for one message of `desc` in `format`. */
export function createCostScanner(desc: DescMessage, format: PayloadFormat): CostScanner {
  return format === "json" ? new JsonCostScanner() : new BinaryCostScanner(infoOf(desc));
}

/** The decoded size beyond the wire bytes of one complete message (for tests and tools). */
export function estimateDecodedOverhead(
  desc: DescMessage,
  format: PayloadFormat,
  bytes: Uint8Array,
): number {
  const s = createCostScanner(desc, format);
  s.feed(bytes);
  return s.overheadBytes;
}

// ---- binary -------------------------------------------------------------------------------

const WIRE_VARINT = 0;
const WIRE_BIT64 = 1;
const WIRE_LEN = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_BIT32 = 5;

/**
 * Bytes charged per wire byte after the walk lost track (input the decoder will reject, or
 * that the walk does not follow): the worst case measured, two wire bytes per ~137-byte
 * object. So the estimate stays an upper bound whatever the bytes are.
 */
const UNTRACKED_BYTE_COST = 72;

/** How a known field's value is read: by its schema type, whatever the wire type says. */
type ValueKind =
  | "message"
  | "group"
  | "map"
  | "bytes"
  | "string"
  | "varint"
  | "fixed32"
  | "fixed64";

/** How the scanner treats one field number of a message. */
interface FieldInfo {
  readonly value: ValueKind;
  /** The sub-message of a message or group field, or the entry of a map field. */
  readonly message: MessageInfo | undefined;
  readonly repeated: boolean;
  /** Repeated scalars other than strings and bytes may arrive packed. */
  readonly packable: boolean;
  /** Part of a oneof: setting it builds a `{ case, value }` object. */
  readonly oneof: boolean;
  /** Bytes per decoded scalar beyond its slot (BigInt or heap number). */
  readonly boxedBytes: number;
  /** A string field the decoder checks for valid UTF-8. */
  readonly utf8: boolean;
}

interface MessageInfo {
  /** Bytes of an empty decoded message of this type (defaults included). */
  readonly baseBytes: number;
  readonly fields: Map<number, FieldInfo>;
  /** The same for field numbers below FAST_FIELDS, by index (the common case, no hashing). */
  readonly byNumber: (FieldInfo | undefined)[];
}

const FAST_FIELDS = 64;

function fieldOf(info: MessageInfo | undefined, fieldNo: number): FieldInfo | undefined {
  if (info === undefined) return undefined;
  return fieldNo < FAST_FIELDS ? info.byNumber[fieldNo] : info.fields.get(fieldNo);
}

function indexFields(fields: Map<number, FieldInfo>): (FieldInfo | undefined)[] {
  const byNumber: (FieldInfo | undefined)[] = new Array(FAST_FIELDS).fill(undefined);
  for (const [no, f] of fields) if (no < FAST_FIELDS) byNumber[no] = f;
  return byNumber;
}

const infos = new WeakMap<DescMessage, MessageInfo>();

function infoOf(desc: DescMessage): MessageInfo {
  const cached = infos.get(desc);
  if (cached !== undefined) return cached;
  const fields = new Map<number, FieldInfo>();
  const info: {
    baseBytes: number;
    fields: Map<number, FieldInfo>;
    byNumber: (FieldInfo | undefined)[];
  } = { baseBytes: 0, fields, byNumber: [] };
  // Registered before the fields are walked: recursive message types refer back to it.
  infos.set(desc, info);
  let base = MESSAGE_BASE_BYTES + FIELD_SLOT_BYTES * (desc.fields.length + 1);
  base += ONEOF_BYTES * desc.oneofs.length;
  for (const f of desc.fields) {
    if (f.fieldKind === "list" || f.fieldKind === "map") base += ARRAY_BYTES;
    else if (f.fieldKind === "scalar" && f.scalar === ScalarType.BYTES && f.oneof === undefined) {
      base += VIEW_BYTES;
    }
    fields.set(f.number, fieldInfo(f));
  }
  info.baseBytes = base;
  info.byNumber = indexFields(fields);
  return info;
}

function scalarField(
  t: ScalarType,
  repeated: boolean,
  oneof: boolean,
  utf8Validation: boolean,
): FieldInfo {
  let value: ValueKind = "varint";
  let boxedBytes = 0;
  switch (t) {
    case ScalarType.BYTES:
      value = "bytes";
      break;
    case ScalarType.STRING:
      value = "string";
      break;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      value = "fixed64";
      boxedBytes = BOXED_NUMBER_BYTES;
      break;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      value = "fixed32";
      boxedBytes = BOXED_NUMBER_BYTES;
      break;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
      boxedBytes = BOXED_NUMBER_BYTES;
      break;
  }
  const packable = repeated && value !== "bytes" && value !== "string";
  const utf8 = value === "string" && utf8Validation;
  return { value, message: undefined, repeated, packable, oneof, boxedBytes, utf8 };
}

function messageField(
  message: MessageInfo,
  repeated: boolean,
  oneof: boolean,
  delimited: boolean,
): FieldInfo {
  return {
    value: delimited ? "group" : "message",
    message,
    repeated,
    packable: false,
    oneof,
    boxedBytes: 0,
    utf8: false,
  };
}

function fieldInfo(f: DescField): FieldInfo {
  const oneof = f.oneof !== undefined;
  switch (f.fieldKind) {
    case "message":
      return messageField(infoOf(f.message), false, oneof, f.delimitedEncoding);
    case "list":
      if (f.listKind === "message") {
        return messageField(infoOf(f.message), true, oneof, f.delimitedEncoding);
      }
      return scalarField(
        f.listKind === "enum" ? ScalarType.INT32 : f.scalar,
        true,
        oneof,
        f.utf8Validation,
      );
    case "map": {
      // An entry: field 1 the key, field 2 the value, stored as a property of one object.
      const entry = new Map<number, FieldInfo>();
      entry.set(1, scalarField(f.mapKey, false, false, f.utf8Validation));
      entry.set(
        2,
        f.mapKind === "message"
          ? messageField(infoOf(f.message), false, false, false)
          : scalarField(
              f.mapKind === "enum" ? ScalarType.INT32 : f.scalar,
              false,
              false,
              f.utf8Validation,
            ),
      );
      return {
        value: "map",
        message: { baseBytes: ELEMENT_BYTES, fields: entry, byNumber: indexFields(entry) },
        repeated: true,
        packable: false,
        oneof,
        boxedBytes: 0,
        utf8: false,
      };
    }
    case "enum":
      return scalarField(ScalarType.INT32, false, oneof, false);
    default:
      return scalarField(f.scalar, false, oneof, f.utf8Validation);
  }
}

/**
 * A message being walked, mirroring protobuf-es's reader: `end` is where a length-delimited
 * message ends (Infinity for the top level and for groups); a group ends at the END_GROUP tag
 * of `groupField`. `info` undefined: an unknown group, skipped.
 */
interface Frame {
  info: MessageInfo | undefined;
  end: number;
  groupField: number;
  /** Map entries treat fields other than 1 and 2 as unknown. */
  isMapEntry: boolean;
  /**
   * A packed repeated field: elements are read one after another until the position reaches
   * or passes `end` (an element may cross it, as in protobuf-es).
   */
  packed: FieldInfo | undefined;
}

/**
 * What the next bytes are: a tag varint, a length varint (then `afterLength` decides), a
 * varint value to skip, `skipLeft` bytes to skip, or nothing the walk follows any more (every
 * further byte costs UNTRACKED_BYTE_COST). Numbers, not strings: this is the inner loop.
 */
const TAG = 0;
const LENGTH = 1;
const VARINT = 2;
const SKIP = 3;
const UNTRACKED = 4;
type Step = typeof TAG | typeof LENGTH | typeof VARINT | typeof SKIP | typeof UNTRACKED;
/** What a length introduces. */
type AfterLength = "skip" | "message" | "bytes" | "string" | "packed";

class BinaryCostScanner implements CostScanner {
  private cost: number;
  private pos = 0;
  /** Frames are reused (a scan allocates nothing per sub-message); `depth` are in use. */
  private readonly stack: Frame[] = [];
  private depth = 0;
  private step: Step = TAG;
  private varint = 0;
  private varintBytes = 0;
  private lastByte = 0;
  private skipLeft = 0;
  /** The varint being skipped belongs to an unknown field: protobuf-es skips any length. */
  private anyLength = false;
  private afterLength: AfterLength = "skip";
  private field: FieldInfo | undefined;
  /** Validates the string being skipped, if the decoder will; it starts at `stringStart`. */
  private utf8: Utf8Validator | undefined;
  private readonly validator = new Utf8Validator();
  private stringStart = 0;
  private malformed: string | undefined;

  constructor(root: MessageInfo) {
    this.cost = root.baseBytes;
    this.enter(root, Number.POSITIVE_INFINITY, 0, false, undefined);
  }

  get overheadBytes(): number {
    return this.cost;
  }

  finish(): string | undefined {
    if (this.malformed !== undefined) return this.malformed;
    if (this.step !== TAG || this.varintBytes > 0) return "it ends inside a field";
    if (this.depth > 1) return "it ends inside a sub-message";
    return undefined;
  }

  feed(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      const step = this.step;
      if (step === UNTRACKED) {
        this.cost += (n - i) * UNTRACKED_BYTE_COST;
        this.pos += n - i;
        return;
      }
      if (step === SKIP) {
        const k = Math.min(this.skipLeft, n - i);
        if (this.utf8 !== undefined && !this.utf8.feed(chunk, i, i + k)) {
          this.utf8 = undefined;
          this.lose(`invalid UTF-8 in the string starting at byte ${this.stringStart}`);
          continue;
        }
        i += k;
        this.pos += k;
        this.skipLeft -= k;
        if (this.skipLeft === 0) this.endOfSkip();
        continue;
      }
      // A varint (tag, length or value). Fast path: all of it is in this chunk.
      if (this.varintBytes === 0) {
        let v = 0;
        let j = i;
        let b = 0;
        while (j < n && j - i < 10) {
          b = chunk[j]!;
          const k = j - i;
          // The low 32 bits, as protobuf-es's uint32() keeps them.
          if (k < 4) v |= (b & 0x7f) << (7 * k);
          else if (k === 4) v = (v | ((b & 0x0f) << 28)) >>> 0;
          j++;
          if (b < 0x80) break;
        }
        if (b < 0x80 && j > i) {
          const len = j - i;
          this.pos += len;
          this.lastByte = b;
          i = j;
          this.varintDone(step, v, len);
          continue;
        }
      }
      // Slow path, one byte at a time across chunks.
      const b = chunk[i++]!;
      this.pos++;
      this.lastByte = b;
      if (this.varintBytes < 4) this.varint |= (b & 0x7f) << (7 * this.varintBytes);
      else if (this.varintBytes === 4) this.varint = (this.varint | ((b & 0x0f) << 28)) >>> 0;
      this.varintBytes++;
      if (b >= 0x80) {
        if (this.varintBytes >= 10 && !this.anyLength) {
          this.lose(`a varint longer than 10 bytes at byte ${this.pos}`);
        }
        continue;
      }
      const v = this.varint;
      const len = this.varintBytes;
      this.varint = 0;
      this.varintBytes = 0;
      this.varintDone(step, v, len);
    }
  }

  private varintDone(step: Step, v: number, len: number): void {
    this.anyLength = false;
    if (step === TAG) this.onTag(v, len);
    else if (step === LENGTH) this.onLength(v);
    else this.valueDone();
  }

  private top(): Frame {
    return this.stack[this.depth - 1]!;
  }

  private enter(
    info: MessageInfo | undefined,
    end: number,
    groupField: number,
    isMapEntry: boolean,
    packed: FieldInfo | undefined,
  ): void {
    let f = this.stack[this.depth];
    if (f === undefined) {
      f = { info, end, groupField, isMapEntry, packed };
      this.stack.push(f);
    } else {
      f.info = info;
      f.end = end;
      f.groupField = groupField;
      f.isMapEntry = isMapEntry;
      f.packed = packed;
    }
    this.depth++;
  }

  /** The bytes stop being a valid message: the rest is charged at the worst-case rate. */
  private lose(reason: string): void {
    this.malformed ??= reason;
    this.step = UNTRACKED;
  }

  private onTag(tag: number, bytes: number): void {
    if (bytes > 5 || (bytes === 5 && this.lastByte > 0x0f)) {
      this.lose(`a tag overflowing 32 bits at byte ${this.pos}`);
      return;
    }
    const fieldNo = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (fieldNo <= 0 || wireType > 5) {
      this.lose(`an invalid tag (field ${fieldNo}, wire type ${wireType}) at byte ${this.pos}`);
      return;
    }
    const frame = this.top();
    if (wireType === WIRE_END_GROUP && frame.groupField !== 0) {
      if (frame.groupField !== fieldNo) {
        this.lose(`a mismatched end-group tag at byte ${this.pos}`);
        return;
      }
      this.depth--;
      this.valueDone();
      return;
    }
    const field = frame.isMapEntry && fieldNo > 2 ? undefined : fieldOf(frame.info, fieldNo);
    this.field = field;
    if (field === undefined) {
      this.unknown(wireType, fieldNo);
      return;
    }
    switch (field.value) {
      case "message":
      case "map":
        this.expectLength("message");
        return;
      case "group":
        this.countMessage(field);
        this.push(field.message, Number.POSITIVE_INFINITY, fieldNo, false);
        return;
      case "bytes":
        this.expectLength("bytes");
        return;
      case "string":
        this.expectLength("string");
        return;
      default:
        if (field.packable && wireType === WIRE_LEN) {
          this.expectLength("packed");
          return;
        }
        this.countScalar(field);
        if (field.value === "fixed32") {
          this.skip(4);
          return;
        }
        if (field.value === "fixed64") {
          this.skip(8);
          return;
        }
        this.step = VARINT;
    }
  }

  /** An unknown field, skipped by its wire type; it costs nothing (readUnknownFields: false). */
  private unknown(wireType: number, fieldNo: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.step = VARINT;
        this.anyLength = true;
        return;
      case WIRE_BIT64:
        this.skip(8);
        return;
      case WIRE_BIT32:
        this.skip(4);
        return;
      case WIRE_LEN:
        this.expectLength("skip");
        return;
      case WIRE_START_GROUP:
        this.push(undefined, Number.POSITIVE_INFINITY, fieldNo, false);
        return;
      default:
        this.lose(`an end-group tag outside a group at byte ${this.pos}`);
        return;
    }
  }

  private expectLength(after: AfterLength): void {
    this.afterLength = after;
    this.step = LENGTH;
  }

  private onLength(len: number): void {
    const field = this.field;
    switch (this.afterLength) {
      case "message": {
        this.countMessage(field!);
        this.push(field!.message, this.pos + len, 0, field!.value === "map");
        return;
      }
      case "bytes":
        this.cost += VIEW_BYTES + this.slotCost(field!);
        break;
      case "string":
        this.cost += STRING_BYTES + 2 * len + this.slotCost(field!);
        if (field!.utf8) {
          this.utf8 = this.validator.reset();
          this.stringStart = this.pos;
        }
        break;
      case "packed":
        this.enter(undefined, this.pos + len, 0, false, field!);
        this.valueDone();
        return;
    }
    this.skip(len);
  }

  /** Inside a packed field: the next element, read by its type. */
  private packedElement(field: FieldInfo): void {
    this.cost += ELEMENT_BYTES + field.boxedBytes;
    if (field.value === "fixed32") {
      this.skip(4);
      return;
    }
    if (field.value === "fixed64") {
      this.skip(8);
      return;
    }
    this.step = VARINT;
  }

  private push(
    info: MessageInfo | undefined,
    end: number,
    groupField: number,
    isMapEntry: boolean,
  ): void {
    if (this.depth >= MAX_DEPTH) {
      this.lose(`nesting deeper than ${MAX_DEPTH} at byte ${this.pos}`);
      return;
    }
    this.enter(info, end, groupField, isMapEntry, undefined);
    // An empty length-delimited message ends where it starts.
    this.valueDone();
  }

  private slotCost(field: FieldInfo): number {
    return (field.repeated ? ELEMENT_BYTES : 0) + (field.oneof ? ONEOF_BYTES : 0);
  }

  private countScalar(field: FieldInfo): void {
    this.cost += field.boxedBytes + this.slotCost(field);
  }

  private countMessage(field: FieldInfo): void {
    this.cost += field.message!.baseBytes + this.slotCost(field);
  }

  private skip(n: number): void {
    if (n === 0) {
      this.endOfSkip();
      return;
    }
    this.skipLeft = n;
    this.step = SKIP;
  }

  private endOfSkip(): void {
    if (this.utf8 !== undefined) {
      const ok = this.utf8.complete();
      this.utf8 = undefined;
      if (!ok) {
        this.lose(`invalid UTF-8 in the string starting at byte ${this.stringStart}`);
        return;
      }
    }
    this.valueDone();
  }

  /**
   * A field value ended: a tag follows, unless one or more messages end here, or the next
   * element of a packed field.
   */
  private valueDone(): void {
    this.step = TAG;
    this.popFinished();
    const packed = this.top().packed;
    if (packed !== undefined) this.packedElement(packed);
  }

  /** Like protobuf-es, a message ends once the position reaches or passes its end. */
  private popFinished(): void {
    while (this.depth > 1 && this.pos >= this.stack[this.depth - 1]!.end) this.depth--;
  }
}

/**
 * Incremental UTF-8 validation with the rules of a fatal TextDecoder (what protobuf-es uses):
 * no overlong forms, no surrogates, nothing above U+10FFFF, no truncated sequence.
 */
export class Utf8Validator {
  /** Continuation bytes still expected. */
  private need = 0;
  /** Bounds of the next continuation byte (narrower right after some lead bytes). */
  private lo = 0x80;
  private hi = 0xbf;

  /** Starts a new text. */
  reset(): this {
    this.need = 0;
    this.lo = 0x80;
    this.hi = 0xbf;
    return this;
  }

  /** Checks bytes [from, to) of `b`; false once the text is invalid. */
  feed(b: Uint8Array, from: number, to: number): boolean {
    for (let i = from; i < to; i++) {
      const c = b[i]!;
      if (this.need > 0) {
        if (c < this.lo || c > this.hi) return false;
        this.need--;
        this.lo = 0x80;
        this.hi = 0xbf;
        continue;
      }
      if (c < 0x80) continue;
      if (c >= 0xc2 && c <= 0xdf) this.need = 1;
      else if (c >= 0xe0 && c <= 0xef) {
        this.need = 2;
        if (c === 0xe0) this.lo = 0xa0;
        else if (c === 0xed) this.hi = 0x9f;
      } else if (c >= 0xf0 && c <= 0xf4) {
        this.need = 3;
        if (c === 0xf0) this.lo = 0x90;
        else if (c === 0xf4) this.hi = 0x8f;
      } else return false;
    }
    return true;
  }

  /** True if the text ended on a character boundary. */
  complete(): boolean {
    return this.need === 0;
  }
}

// ---- JSON ---------------------------------------------------------------------------------

class JsonCostScanner implements CostScanner {
  private cost = 0;
  private inString = false;
  private escaped = false;

  get overheadBytes(): number {
    return this.cost;
  }

  finish(): string | undefined {
    return undefined;
  }

  feed(chunk: Uint8Array): void {
    let structural = 0;
    let objects = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.inString = false;
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b) objects++;
      else if (c === 0x5b || c === 0x2c) structural++;
    }
    this.cost +=
      JSON_BYTES_PER_BYTE * chunk.length +
      objects * JSON_OBJECT_BYTES +
      structural * JSON_SLOT_BYTES;
  }
}
