/**
 * Typed views of a oneof mux (see mux-wire.ts): call kinds, request and response types per
 * kind, derived from the generated messages. Adding a case to the proto oneofs extends these
 * types with no code change here, in the mux, or in the clients' generic `call()`.
 */
import type { DescMessage, Message, MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import type { MuxHandler, MuxHandlerContext, MuxHandlerLookup } from "./mux-server.js";
import type { CallBodyOf, OneofMessageCase, ReplyResultOf } from "./mux-wire.js";

type CallsMessage = Message & { calls: unknown[] };
type RepliesMessage = Message & { replies: unknown[] };

/** The call kinds of a request stream message, e.g. "replicaWrite" | "replicaRead" | "ping". */
export type KindOf<TReq extends CallsMessage> = Extract<CaseOf<CallBodyOf<TReq>>, string>;
/** The request message of a kind. */
export type RequestOf<TReq extends CallsMessage, K> = ValueOf<
  Extract<CallBodyOf<TReq>, { case: K }>
>;
/** The response message of a kind. */
export type ResponseOf<TRes extends RepliesMessage, K> = ValueOf<
  Extract<ReplyResultOf<TRes>, { case: K }>
>;
type CaseOf<T> = T extends { case: infer C } ? C : never;
type ValueOf<T> = T extends { value: infer V } ? V : never;
/** What create() accepts for a message type: the message or a partial plain object. */
export type InitOf<M> = M extends Message ? MessageInitShape<GenMessage<M>> : never;

/** Handlers by kind; a kind without a handler answers UNIMPLEMENTED. */
export type MuxServiceHandlers<TReq extends CallsMessage, TRes extends RepliesMessage> = {
  [K in KindOf<TReq>]?: (
    request: RequestOf<TReq, K>,
    ctx: MuxHandlerContext,
  ) => InitOf<ResponseOf<TRes, K>> | Promise<InitOf<ResponseOf<TRes, K>>>;
};

/** The message schema of each case of a frame's `body` oneof, by case name. */
function oneofSchemas(frameDesc: DescMessage): Map<string, DescMessage> {
  const m = new Map<string, DescMessage>();
  for (const f of frameDesc.fields) {
    if (f.oneof?.localName === "body" && f.fieldKind === "message") m.set(f.localName, f.message);
  }
  return m;
}

function frameDescOf(batch: DescMessage, listField: string): DescMessage {
  const f = batch.fields.find((x) => x.localName === listField);
  if (f === undefined || f.fieldKind !== "list" || f.listKind !== "message") {
    throw new TypeError(`${batch.typeName} has no repeated message field "${listField}"`);
  }
  return f.message;
}

/** Builds the lookup the mux server needs from typed handlers. */
export function createTypedLookup<TReq extends CallsMessage, TRes extends RepliesMessage>(
  requestSchema: GenMessage<TReq>,
  responseSchema: GenMessage<TRes>,
  handlers: MuxServiceHandlers<TReq, TRes>,
): MuxHandlerLookup<CallBodyOf<TReq>, ReplyResultOf<TRes>> {
  const kinds = oneofSchemas(frameDescOf(requestSchema, "calls"));
  const results = oneofSchemas(frameDescOf(responseSchema, "replies"));
  const table = new Map<string, MuxHandler<CallBodyOf<TReq>, ReplyResultOf<TRes>>>();
  for (const [kind, fn] of Object.entries(handlers as Record<string, unknown>)) {
    if (fn === undefined) continue;
    if (typeof fn !== "function") throw new TypeError(`handler for "${kind}" is not a function`);
    const schema = results.get(kind);
    if (!kinds.has(kind) || schema === undefined) {
      throw new TypeError(`"${kind}" is not a call kind of ${requestSchema.typeName}`);
    }
    const h = fn as (req: Message, ctx: MuxHandlerContext) => unknown;
    const wrap = (init: unknown): ReplyResultOf<TRes> =>
      ({ case: kind, value: create(schema, init as never) }) as unknown as ReplyResultOf<TRes>;
    table.set(kind, (body, ctx) => {
      const out = h((body as OneofMessageCase).value, ctx);
      return out instanceof Promise ? out.then(wrap) : wrap(out);
    });
  }
  return (kind) => table.get(kind);
}

/** Builds call bodies (`{ case, value }`) from a kind and a message or init object. */
export function createBodyFactory<TReq extends CallsMessage>(
  requestSchema: GenMessage<TReq>,
): <K extends KindOf<TReq>>(kind: K, request: InitOf<RequestOf<TReq, K>>) => CallBodyOf<TReq> {
  const kinds = oneofSchemas(frameDescOf(requestSchema, "calls"));
  return (kind, request) => {
    const schema = kinds.get(kind as string);
    if (schema === undefined) {
      throw new TypeError(`"${String(kind)}" is not a call kind of ${requestSchema.typeName}`);
    }
    return { case: kind, value: create(schema, request as never) } as unknown as CallBodyOf<TReq>;
  };
}
