// Public surface of @distkv/rpc: the generated messages and service descriptors of the
// DistKV API, and a typed client factory. Applications and the CLI import from here.

export {
  createDistKVClient,
  DEFAULT_CLIENT_TIMEOUT_MS,
  type DistKVClient,
  type DistKVClientOptions,
  type DistKVProtocol,
  normalizeBaseUrl,
} from "./client.js";
export * from "./gen/distkv/v1/kv_pb.js";
