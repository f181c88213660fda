import {
  type CodecOptions,
  type ResolvedCodecOptions,
  resolveCodecOptions,
} from "./codec-options.js";
import { decodeContextWith, encodeContextWith } from "./context-codec.js";
import type { SiblingSet } from "./sibling-set.js";
import { decodeSiblingSetWith, encodeSiblingSetWith } from "./sibling-set-codec.js";
import type { VersionVector } from "./version-vector.js";

/** The binary codecs bound to one set of resolved options. */
export interface Codec {
  readonly options: ResolvedCodecOptions;
  /** Opaque causal context token for a reader. Throws LimitExceededError, InvalidVersionVectorError. */
  encodeContext(vv: VersionVector): Uint8Array;
  /** Throws InvalidContextError unless `bytes` is exactly one valid token. */
  decodeContext(bytes: Uint8Array): VersionVector;
  /** Storage/replication encoding. Throws LimitExceededError, InvalidSiblingSetError, InvalidVersionVectorError. */
  encodeSiblingSet(set: SiblingSet<Uint8Array>): Uint8Array;
  /** Throws InvalidEncodingError unless `bytes` is exactly one valid encoding. */
  decodeSiblingSet(bytes: Uint8Array): SiblingSet<Uint8Array>;
}

/** Resolves `options` once and returns codecs that use them. Throws InvalidOptionsError. */
export function createCodec(options?: CodecOptions): Codec {
  const resolved = resolveCodecOptions(options);
  return Object.freeze({
    options: resolved,
    encodeContext: (vv: VersionVector) => encodeContextWith(vv, resolved),
    decodeContext: (bytes: Uint8Array) => decodeContextWith(bytes, resolved),
    encodeSiblingSet: (set: SiblingSet<Uint8Array>) => encodeSiblingSetWith(set, resolved),
    decodeSiblingSet: (bytes: Uint8Array) => decodeSiblingSetWith(bytes, resolved),
  });
}

const defaultCodec = createCodec();

/** `encodeContext` with the default options. */
export const encodeContext: Codec["encodeContext"] = defaultCodec.encodeContext;
/** `decodeContext` with the default options. */
export const decodeContext: Codec["decodeContext"] = defaultCodec.decodeContext;
/** `encodeSiblingSet` with the default options. */
export const encodeSiblingSet: Codec["encodeSiblingSet"] = defaultCodec.encodeSiblingSet;
/** `decodeSiblingSet` with the default options. */
export const decodeSiblingSet: Codec["decodeSiblingSet"] = defaultCodec.decodeSiblingSet;
