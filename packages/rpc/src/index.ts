// Public surface of @distkv/rpc.
//
// For applications and the CLI: the generated messages and service descriptors of the public
// API (kv.proto), the unary client (createDistKVClient) and the pipelined client
// (createPipelinedClient).
//
// For sibling packages (the server app, quorum, gossip wiring): the one-port server
// (createDistKVServer), the node-to-node channel (createPeerClient / registerPeerService and
// the peer.proto messages), the Pipeline server side (createPipelineHandler), the generic
// multiplexer (MuxClient, createMuxStreamHandler, createOneofMuxWire) and the errors.
// Everything not exported here is internal.

export {
  type BackoffOptions,
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_JITTER,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_BACKOFF_MULTIPLIER,
} from "./backoff.js";
export {
  createDistKVClient,
  DEFAULT_CLIENT_TIMEOUT_MS,
  type DistKVClient,
  type DistKVClientOptions,
  type DistKVProtocol,
  normalizeBaseUrl,
} from "./client.js";
export { drainSignalKey } from "./context.js";

export {
  asStatusCode,
  CanceledError,
  ChannelClosedError,
  codeOf,
  DeadlineExceededError,
  InvalidArgumentError,
  isCanceledError,
  isChannelClosedError,
  isDeadlineExceededError,
  isInvalidArgumentError,
  isProtocolError,
  isRemoteError,
  isResourceExhaustedError,
  isRpcError,
  isUnavailableError,
  messageOf,
  ProtocolError,
  RemoteError,
  ResourceExhaustedError,
  RpcError,
  type RpcErrorOptions,
  toConnectError,
  UnavailableError,
} from "./errors.js";
export * from "./gen/distkv/v1/fault_pb.js";
export * from "./gen/distkv/v1/kv_pb.js";
export * from "./gen/distkv/v1/peer_pb.js";
export {
  DEFAULT_MUX_MAX_BATCH_BYTES,
  DEFAULT_MUX_MAX_FRAME_BYTES,
  DEFAULT_MUX_MAX_IN_FLIGHT,
  DEFAULT_MUX_MAX_IN_FLIGHT_BYTES,
  DEFAULT_MUX_MAX_WAITING,
  DEFAULT_MUX_PEER,
  DEFAULT_MUX_TIMEOUT_MS,
  MAX_MUX_TIMEOUT_MS,
  type MuxCallOptions,
  type MuxChannelState,
  MuxClient,
  type MuxClientOptions,
  type MuxClientStats,
  type MuxStreamOpener,
  type ResolvedMuxClientOptions,
  resolveMuxClientOptions,
} from "./mux-client.js";
export {
  createMuxStreamHandler,
  DEFAULT_MUX_MAX_CONCURRENT,
  DEFAULT_MUX_SERVER_MAX_BATCH_FRAMES,
  DEFAULT_MUX_SERVER_MAX_FRAME_BYTES,
  DEFAULT_MUX_SERVER_MAX_IN_FLIGHT_BYTES,
  DEFAULT_MUX_SERVER_MAX_TIMEOUT_MS,
  DEFAULT_MUX_SERVER_TIMEOUT_MS,
  type MuxHandler,
  type MuxHandlerContext,
  type MuxHandlerLookup,
  type MuxServerOptions,
  type ResolvedMuxServerOptions,
  resolveMuxServerOptions,
} from "./mux-server.js";
export {
  createBodyFactory,
  createTypedLookup,
  type InitOf,
  type KindOf,
  type MuxServiceHandlers,
  type RequestOf,
  type ResponseOf,
} from "./mux-typed.js";
export {
  type CallBodyOf,
  createOneofMuxWire,
  estimateMessageBytes,
  FRAME_OVERHEAD_BYTES,
  type MuxCallFrame,
  type MuxReplyFrame,
  type MuxStatus,
  type MuxWire,
  type OneofBody,
  type ReplyResultOf,
} from "./mux-wire.js";

export {
  createPeerClient,
  PeerClient,
  type PeerClientOptions,
  type PingResult,
} from "./peer-client.js";
export {
  createPeerChannelHandler,
  DEFAULT_PEER_MUX_MAX_IN_FLIGHT_BYTES,
  type PeerHandlers,
  type PeerServiceOptions,
  registerPeerService,
} from "./peer-service.js";
export { type PeerKind, type PeerRequestOf, type PeerResponseOf, peerWire } from "./peer-wire.js";
export { createPipelineHandler, type PipelineHandlers } from "./pipeline-service.js";
export {
  type PipelineKind,
  type PipelineRequestOf,
  type PipelineResponseOf,
  pipelineWire,
} from "./pipeline-wire.js";
export {
  type BytesLike,
  createPipelinedClient,
  type PipelinedCallOptions,
  PipelinedClient,
  type PipelinedClientOptions,
  type PipelinedWriteOptions,
} from "./pipelined-client.js";

export {
  classifyPrefix,
  HTTP2_PREFACE,
  type SniffedProtocol,
} from "./protocol-sniffer.js";
export {
  createDistKVServer,
  DEFAULT_GRACE_PERIOD_MS,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_PENDING_CONNECTIONS,
  DEFAULT_PEER_MAX_CONNECTION_IN_FLIGHT_BYTES,
  DEFAULT_PEER_MAX_CONNECTIONS,
  DEFAULT_PEER_MAX_IN_FLIGHT_BYTES,
  DEFAULT_PEER_READ_MAX_BYTES,
  DEFAULT_PEER_SERVICES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_SERVER_MAX_CONNECTION_IN_FLIGHT_BYTES,
  DEFAULT_SERVER_MAX_CONNECTIONS,
  DEFAULT_SERVER_MAX_IN_FLIGHT_BYTES,
  DEFAULT_SERVER_MAX_TIMEOUT_MS,
  DEFAULT_SERVER_READ_MAX_BYTES,
  DEFAULT_SERVER_WRITE_MAX_BYTES,
  type DistKVServer,
  type DistKVServerOptions,
  type DistKVServerStopOptions,
  type DistKVServerUsage,
  type NodeServerRequest,
  type PeerTrafficOptions,
  type ResolvedDistKVServerOptions,
  type ResolvedTrafficLimits,
  resolveDistKVServerOptions,
  type TrafficClass,
  type TrafficLimits,
} from "./server.js";
export {
  createStreamTransport,
  DEFAULT_STREAM_PING_INTERVAL_MS,
  DEFAULT_STREAM_PING_TIMEOUT_MS,
  DEFAULT_STREAM_READ_MAX_BYTES,
  type StreamTransport,
  type StreamTransportOptions,
} from "./stream-transport.js";
