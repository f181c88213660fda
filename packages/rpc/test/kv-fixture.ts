// An in-memory KVService for tests: enough of put/get/delete to prove the transports carry
// requests and answers faithfully. Not a model of DistKV's semantics (no clocks, no siblings).
import type { ConnectRouter } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type DeleteRequest,
  type GetRequest,
  KVService,
  type PutRequest,
} from "../src/gen/distkv/v1/kv_pb.js";
import { createPipelineHandler } from "../src/pipeline-service.js";

export interface MemoryKv {
  readonly data: Map<string, Uint8Array>;
  put(req: PutRequest): { context: Uint8Array; replicasAcked: number };
  get(req: GetRequest): {
    found: boolean;
    siblings: { value: Uint8Array; timestampMs: bigint }[];
    replicasAnswered: number;
  };
  delete(req: DeleteRequest): { replicasAcked: number };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Keys longer than this fail with INVALID_ARGUMENT, to exercise error paths. */
export const FIXTURE_MAX_KEY_BYTES = 1024;

function checkKey(key: Uint8Array): void {
  if (key.length === 0 || key.length > FIXTURE_MAX_KEY_BYTES) {
    throw new ConnectError(
      `key must be 1..${FIXTURE_MAX_KEY_BYTES} bytes, got ${key.length}`,
      Code.InvalidArgument,
    );
  }
}

export function createMemoryKv(): MemoryKv {
  const data = new Map<string, Uint8Array>();
  let version = 0;
  return {
    data,
    put(req) {
      checkKey(req.key);
      data.set(hex(req.key), req.value);
      version++;
      return { context: new Uint8Array([version & 0xff]), replicasAcked: 1 };
    },
    get(req) {
      checkKey(req.key);
      const v = data.get(hex(req.key));
      return v === undefined
        ? { found: false, siblings: [], replicasAnswered: 1 }
        : { found: true, siblings: [{ value: v, timestampMs: 0n }], replicasAnswered: 1 };
    },
    delete(req) {
      checkKey(req.key);
      data.delete(hex(req.key));
      return { replicasAcked: 1 };
    },
  };
}

/** Unary KVService plus Pipeline over the same store. */
export function kvRoutes(kv: MemoryKv): (router: ConnectRouter) => void {
  return (router) => {
    router.service(KVService, {
      put: (req) => kv.put(req),
      get: (req) => kv.get(req),
      delete: (req) => kv.delete(req),
      pipeline: createPipelineHandler({
        put: (req) => kv.put(req),
        get: (req) => kv.get(req),
        delete: (req) => kv.delete(req),
      }),
    });
  };
}
