import { InvalidOptionsError } from "./errors.js";

/** Default for `CodecOptions.maxActors`. */
export const DEFAULT_MAX_ACTORS = 1024;
/** Default for `CodecOptions.maxSiblings`. */
export const DEFAULT_MAX_SIBLINGS = 1024;
/** Default for `CodecOptions.copyValues`. */
export const DEFAULT_COPY_VALUES = true;

/**
 * Limits and behaviour of the binary codecs. Encoders enforce the same limits as decoders, so a
 * set that encodes also decodes: a write that would create an over-limit object fails at the
 * writer with LimitExceededError instead of storing something no node can read. Use the same
 * limits on every node; raising them later is safe, lowering them can make stored objects
 * unreadable.
 */
export interface CodecOptions {
  /**
   * Most actors (entries) in a version vector / object clock. Actors are node ids, so real
   * clocks are bounded by the number of nodes that ever coordinated a write; the cap keeps a
   * hostile context token from planting a huge clock in an object.
   * @default 1024
   */
  readonly maxActors?: number;
  /**
   * Most siblings in an encoded sibling set.
   * @default 1024
   */
  readonly maxSiblings?: number;
  /**
   * Decoded values are copies (true) or views into the input buffer (false: faster, but the
   * values change if the caller reuses the buffer, e.g. a pooled read buffer).
   * @default true
   */
  readonly copyValues?: boolean;
}

/** Complete, validated codec options. */
export interface ResolvedCodecOptions {
  readonly maxActors: number;
  readonly maxSiblings: number;
  readonly copyValues: boolean;
}

function positiveInt(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw new InvalidOptionsError(`${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** Fills in defaults and validates; throws InvalidOptionsError. Returns a frozen object. */
export function resolveCodecOptions(options: CodecOptions = {}): ResolvedCodecOptions {
  const copyValues = options.copyValues ?? DEFAULT_COPY_VALUES;
  if (typeof copyValues !== "boolean") {
    throw new InvalidOptionsError(`copyValues must be a boolean, got ${String(copyValues)}`);
  }
  return Object.freeze({
    maxActors: positiveInt("maxActors", options.maxActors, DEFAULT_MAX_ACTORS),
    maxSiblings: positiveInt("maxSiblings", options.maxSiblings, DEFAULT_MAX_SIBLINGS),
    copyValues,
  });
}
