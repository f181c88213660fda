/**
 * @distkv/vclock: version vectors and dotted-version-vector sibling sets, the causality layer of
 * DistKV. Everything exported here is public: applications use the types and `values`/`lww`
 * helpers; @distkv/quorum and the server use `update`/`sync`/`isStale` and the binary codecs.
 * Files not re-exported here are internal.
 */

export { assertValidActor, isValidActor, MAX_ACTOR_BYTES } from "./actor.js";
export {
  type Codec,
  createCodec,
  decodeContext,
  decodeSiblingSet,
  encodeContext,
  encodeSiblingSet,
} from "./codec.js";
export {
  type CodecOptions,
  DEFAULT_COPY_VALUES,
  DEFAULT_MAX_ACTORS,
  DEFAULT_MAX_SIBLINGS,
  type ResolvedCodecOptions,
  resolveCodecOptions,
} from "./codec-options.js";
export { CONTEXT_FORMAT_V1 } from "./context-codec.js";
export {
  CounterOverflowError,
  InvalidActorError,
  InvalidContextError,
  InvalidEncodingError,
  InvalidOptionsError,
  InvalidSiblingSetError,
  InvalidTimestampError,
  InvalidVersionVectorError,
  isCounterOverflowError,
  isInvalidActorError,
  isInvalidContextError,
  isInvalidEncodingError,
  isInvalidOptionsError,
  isInvalidSiblingSetError,
  isInvalidTimestampError,
  isInvalidVersionVectorError,
  isLimitExceededError,
  isVclockError,
  LimitExceededError,
} from "./errors.js";
export { lww, resolveLww } from "./lww.js";
export {
  compareDots,
  context,
  EMPTY_SIBLING_SET,
  emptySiblingSet,
  equals,
  isCoveredBy,
  isPurgeable,
  isStale,
  isTombstoneOnly,
  liveSiblings,
  type Sibling,
  type SiblingSet,
  siblingSet,
  sync,
  syncAll,
  update,
  values,
} from "./sibling-set.js";
export { SIBLING_SET_FORMAT_V1 } from "./sibling-set-codec.js";
export { isValidTimestamp } from "./timestamp.js";
export {
  assertVersionVector,
  compareVersionVectors,
  counterOf,
  coversDot,
  descends,
  dominates,
  EMPTY_VERSION_VECTOR,
  incrementVersionVector,
  isVersionVector,
  MAX_COUNTER,
  mergeVersionVectors,
  type Ordering,
  type VersionVector,
  type VersionVectorEntry,
  versionVector,
  versionVectorEquals,
  versionVectorToObject,
} from "./version-vector.js";
