/** The mux wire of KVService.Pipeline (shared by PipelinedClient and createPipelineHandler). */
import {
  type PipelineRequest,
  PipelineRequestSchema,
  type PipelineResponse,
  PipelineResponseSchema,
} from "./gen/distkv/v1/kv_pb.js";
import type { KindOf, RequestOf, ResponseOf } from "./mux-typed.js";
import { createOneofMuxWire } from "./mux-wire.js";

export const pipelineWire = createOneofMuxWire(PipelineRequestSchema, PipelineResponseSchema);

/** "put" | "get" | "delete". */
export type PipelineKind = KindOf<PipelineRequest>;
export type PipelineRequestOf<K extends PipelineKind> = RequestOf<PipelineRequest, K>;
export type PipelineResponseOf<K extends PipelineKind> = ResponseOf<PipelineResponse, K>;
