/**
 * The server side of KVService.Pipeline. The server app supplies put/get/delete (usually the
 * same coordinator code as its unary handlers) and registers the result as the `pipeline`
 * method of KVService.
 */
import type { HandlerContext } from "@connectrpc/connect";
import type { PipelineRequest, PipelineResponse } from "./gen/distkv/v1/kv_pb.js";
import { PipelineRequestSchema, PipelineResponseSchema } from "./gen/distkv/v1/kv_pb.js";
import { createMuxStreamHandler, type MuxServerOptions } from "./mux-server.js";
import { createTypedLookup, type MuxServiceHandlers } from "./mux-typed.js";
import { pipelineWire } from "./pipeline-wire.js";

/** `{ put, get, delete }`, each `(request, ctx) => response init`. */
export type PipelineHandlers = MuxServiceHandlers<PipelineRequest, PipelineResponse>;

/**
 * The implementation of KVService.Pipeline:
 * `router.service(KVService, { ...unary, pipeline: createPipelineHandler(handlers) })`.
 */
export function createPipelineHandler(
  handlers: PipelineHandlers,
  options: MuxServerOptions = {},
): (
  requests: AsyncIterable<PipelineRequest>,
  ctx: HandlerContext,
) => AsyncIterable<PipelineResponse> {
  const lookup = createTypedLookup(PipelineRequestSchema, PipelineResponseSchema, handlers);
  return createMuxStreamHandler(pipelineWire, lookup, options);
}
