/**
 * Errors of @distkv/merkle. One subclass per failure, each with a fixed `name`, so the
 * `isXError()` helpers work across duplicated module copies (they check `name`, never
 * `instanceof`).
 */

export interface MerkleErrorOptions {
  cause?: unknown;
}

/** Base class of every error this package throws on purpose. */
export class MerkleError extends Error {
  override name = "MerkleError";
  constructor(message: string, options?: MerkleErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** `MerkleTreeOptions` or `DiffOptions` failed validation; the message names the field. */
export class InvalidMerkleOptionsError extends MerkleError {
  override name = "InvalidMerkleOptionsError";
}

/**
 * A key, digest or other argument has the wrong type or size, or a key's token lies outside
 * the tree's range.
 */
export class InvalidMerkleArgumentError extends MerkleError {
  override name = "InvalidMerkleArgumentError";
}

/** A request or reply of the exchange protocol is malformed, over a limit, or out of order. */
export class MerkleProtocolError extends MerkleError {
  override name = "MerkleProtocolError";
}

/**
 * The two trees of an exchange differ in range, fanout or depth, so their nodes cannot be
 * compared. Both sides must build their trees with the same options.
 */
export class MerkleShapeMismatchError extends MerkleError {
  override name = "MerkleShapeMismatchError";
}

const NAMES: ReadonlySet<string> = new Set([
  "MerkleError",
  "InvalidMerkleOptionsError",
  "InvalidMerkleArgumentError",
  "MerkleProtocolError",
  "MerkleShapeMismatchError",
]);

function nameOf(e: unknown): unknown {
  return typeof e === "object" && e !== null ? (e as { name?: unknown }).name : undefined;
}

export function isMerkleError(e: unknown): e is MerkleError {
  const name = nameOf(e);
  return typeof name === "string" && NAMES.has(name);
}
export function isInvalidMerkleOptionsError(e: unknown): e is InvalidMerkleOptionsError {
  return nameOf(e) === "InvalidMerkleOptionsError";
}
export function isInvalidMerkleArgumentError(e: unknown): e is InvalidMerkleArgumentError {
  return nameOf(e) === "InvalidMerkleArgumentError";
}
export function isMerkleProtocolError(e: unknown): e is MerkleProtocolError {
  return nameOf(e) === "MerkleProtocolError";
}
export function isMerkleShapeMismatchError(e: unknown): e is MerkleShapeMismatchError {
  return nameOf(e) === "MerkleShapeMismatchError";
}

/** Short, safe rendering of an untrusted value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") {
    return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}...` : JSON.stringify(value);
  }
  if (typeof value === "number" || typeof value === "boolean" || value == null) {
    return String(value);
  }
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.length} bytes`;
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}
