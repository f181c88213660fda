/**
 * How the multiplexer's frames map onto the stream messages of one RPC. The mux itself only
 * sees `MuxCallFrame` / `MuxReplyFrame`; a `MuxWire` packs a batch of them into one stream
 * message and unpacks them again. `createOneofMuxWire()` implements the convention that both
 * PeerService.Channel and KVService.Pipeline follow (see peer.proto), so adding a call kind is
 * a proto change plus a handler: neither the mux nor the wire changes.
 */
import type { DescField, DescMessage, Message } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import { Code } from "@connectrpc/connect";
import { asStatusCode } from "./errors.js";

/** One call as the mux sees it. `body` is undefined only on cancel frames. */
export interface MuxCallFrame<TBody> {
  readonly id: number;
  /** Time left for the call when sent; 0 = none. */
  readonly timeoutMs: number;
  readonly cancel: boolean;
  readonly body: TBody | undefined;
}

/** A status carried in a reply frame instead of a result. */
export interface MuxStatus {
  readonly code: Code;
  readonly message: string;
}

/** One reply as the mux sees it: a result or an error, never both. */
export type MuxReplyFrame<TResult> =
  | { readonly id: number; readonly result: TResult; readonly error?: undefined }
  | { readonly id: number; readonly result?: undefined; readonly error: MuxStatus };

export interface MuxWire<TReq, TRes, TBody, TResult> {
  /** Client side: one stream message carrying these call frames. */
  encodeCalls(frames: readonly MuxCallFrame<TBody>[]): TReq;
  /** Server side. */
  decodeCalls(message: TReq): MuxCallFrame<TBody>[];
  /** Server side: one stream message carrying these reply frames. */
  encodeReplies(frames: readonly MuxReplyFrame<TResult>[]): TRes;
  /** Client side. */
  decodeReplies(message: TRes): MuxReplyFrame<TResult>[];
  /** The kind of a call (the handler registry key), e.g. "replicaWrite". */
  kindOf(body: TBody): string;
  /** The kind of a result, checked against the call's kind by typed clients. */
  resultKindOf(result: TResult): string;
  /** Estimated encoded size of a body, for byte limits and batch sizing. */
  sizeOf(body: TBody): number;
}

/** A selected oneof case holding a message, as protobuf-es represents it. */
export interface OneofMessageCase {
  readonly case: string;
  readonly value: Message;
}
type NoCase = { case: undefined; value?: undefined };

/** The call frame message of the convention. */
export type ConventionCall = Message & {
  id: number;
  timeoutMs: number;
  cancel: boolean;
  body: OneofMessageCase | NoCase;
};
/** The reply frame message of the convention. */
export type ConventionReply = Message & { id: number; body: OneofMessageCase | NoCase };

/** The selected cases of a frame's `body` oneof. */
export type OneofBody<Frame> = Frame extends { body: infer B } ? Exclude<B, NoCase> : never;
/** The body of a call frame message: the request cases. */
export type CallBodyOf<TReq extends { calls: unknown[] }> = OneofBody<TReq["calls"][number]>;
/** The result of a reply frame message: its cases minus `error`. */
export type ReplyResultOf<TRes extends { replies: unknown[] }> = Exclude<
  OneofBody<TRes["replies"][number]>,
  { case: "error" }
>;

/** Fixed per-frame overhead assumed by size estimates (id, timeout, tags, lengths). */
export const FRAME_OVERHEAD_BYTES = 16;

/**
 * A cheap estimate of a message's encoded size: byte and string lengths plus a few bytes per
 * scalar, without encoding. Walking fields is O(number of fields), not O(bytes), so a 1 MiB
 * value costs the same as a 1-byte one.
 */
export function estimateMessageBytes(value: unknown, depth = 0): number {
  if (value instanceof Uint8Array) return value.byteLength + 2;
  switch (typeof value) {
    case "string":
      return value.length + 2;
    case "number":
      return 5;
    case "bigint":
      return 10;
    case "boolean":
      return 1;
    case "object": {
      if (value === null || depth > 32) return 0;
      if (Array.isArray(value)) {
        let n = 0;
        for (const v of value) n += estimateMessageBytes(v, depth + 1);
        return n;
      }
      let n = 2;
      for (const key of Object.keys(value)) {
        if (key === "$typeName" || key === "$unknown" || key === "case") continue;
        n += estimateMessageBytes((value as Record<string, unknown>)[key], depth + 1);
      }
      return n;
    }
    default:
      return 0;
  }
}

function field(desc: DescMessage, localName: string, what: string): DescField {
  const f = desc.fields.find((x) => x.localName === localName);
  if (f === undefined) {
    throw new TypeError(`${desc.typeName} does not follow the mux convention: no ${what}`);
  }
  return f;
}

function repeatedMessage(desc: DescMessage, localName: string): DescMessage {
  const f = field(desc, localName, `repeated message field "${localName}"`);
  if (f.fieldKind !== "list" || f.listKind !== "message") {
    throw new TypeError(`${desc.typeName}.${localName} must be a repeated message field`);
  }
  return f.message;
}

function checkFrame(desc: DescMessage, withCallFields: boolean): void {
  field(desc, "id", `field "id"`);
  if (withCallFields) {
    field(desc, "timeoutMs", `field "timeout_ms"`);
    field(desc, "cancel", `field "cancel"`);
  }
  if (!desc.oneofs.some((o) => o.localName === "body")) {
    throw new TypeError(`${desc.typeName} does not follow the mux convention: no oneof "body"`);
  }
}

/**
 * The wire for an RPC whose stream messages follow the convention of peer.proto: the request
 * has `repeated Call calls`, the response `repeated Reply replies`; Call has `id`, `timeout_ms`,
 * `cancel` and a oneof `body`; Reply has `id` and a oneof `body` with an `error` case holding a
 * message with `code` and `message`. Checked when the wire is created.
 */
export function createOneofMuxWire<
  TReq extends Message & { calls: ConventionCall[] },
  TRes extends Message & { replies: ConventionReply[] },
>(
  requestSchema: GenMessage<TReq>,
  responseSchema: GenMessage<TRes>,
): MuxWire<TReq, TRes, CallBodyOf<TReq>, ReplyResultOf<TRes>> {
  const callDesc = repeatedMessage(requestSchema, "calls");
  const replyDesc = repeatedMessage(responseSchema, "replies");
  checkFrame(callDesc, true);
  checkFrame(replyDesc, false);
  const errorField = field(replyDesc, "error", `oneof case "error"`);
  if (errorField.fieldKind !== "message" || errorField.oneof?.localName !== "body") {
    throw new TypeError(`${replyDesc.typeName}.error must be a message in oneof "body"`);
  }
  field(errorField.message, "code", `field "code"`);
  field(errorField.message, "message", `field "message"`);

  const requestType = requestSchema.typeName;
  const responseType = responseSchema.typeName;
  const callType = callDesc.typeName;
  const replyType = replyDesc.typeName;
  const errorType = errorField.message.typeName;
  const noCase: NoCase = { case: undefined };

  // Messages are built as plain objects carrying $typeName, which protobuf-es accepts as
  // messages; create() would walk every field again on a path taken once per call.
  return {
    encodeCalls(frames) {
      const calls = frames.map((f) => ({
        $typeName: callType,
        id: f.id,
        timeoutMs: f.timeoutMs,
        cancel: f.cancel,
        body: f.body ?? noCase,
      }));
      return { $typeName: requestType, calls } as unknown as TReq;
    },
    decodeCalls(message) {
      return message.calls.map((c) => ({
        id: c.id,
        timeoutMs: c.timeoutMs,
        cancel: c.cancel,
        body: c.body.case === undefined ? undefined : (c.body as CallBodyOf<TReq>),
      }));
    },
    encodeReplies(frames) {
      const replies = frames.map((f) => ({
        $typeName: replyType,
        id: f.id,
        body:
          f.error === undefined
            ? f.result
            : {
                case: "error",
                value: { $typeName: errorType, code: f.error.code, message: f.error.message },
              },
      }));
      return { $typeName: responseType, replies } as unknown as TRes;
    },
    decodeReplies(message) {
      return message.replies.map((r): MuxReplyFrame<ReplyResultOf<TRes>> => {
        const body = r.body;
        if (body.case === undefined) {
          return { id: r.id, error: { code: Code.Internal, message: "reply frame without body" } };
        }
        if (body.case === "error") {
          const e = body.value as Message & { code: number; message: string };
          return {
            id: r.id,
            error: { code: asStatusCode(e.code) ?? Code.Unknown, message: e.message },
          };
        }
        return { id: r.id, result: body as ReplyResultOf<TRes> };
      });
    },
    kindOf(body) {
      return (body as OneofMessageCase).case;
    },
    resultKindOf(result) {
      return (result as OneofMessageCase).case;
    },
    sizeOf(body) {
      return FRAME_OVERHEAD_BYTES + estimateMessageBytes((body as OneofMessageCase).value);
    },
  };
}
