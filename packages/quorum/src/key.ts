import { describe } from "./describe.js";
import { InvalidArgumentError } from "./errors.js";

/** A key: bytes, or a string taken as its UTF-8 bytes. */
export type QuorumKey = Uint8Array | string;

const utf8 = new TextEncoder();

/** The key's bytes, checked against the limit: never empty, at most `maxKeyBytes`. */
export function keyBytes(key: unknown, maxKeyBytes: number): Uint8Array {
  let bytes: Uint8Array;
  if (typeof key === "string") bytes = utf8.encode(key);
  else if (key instanceof Uint8Array) bytes = key;
  else {
    throw new InvalidArgumentError(
      "key",
      `key must be a Uint8Array or a string, got ${describe(key)}`,
    );
  }
  if (bytes.byteLength === 0) throw new InvalidArgumentError("key", "key must not be empty");
  if (bytes.byteLength > maxKeyBytes) {
    throw new InvalidArgumentError(
      "key",
      `key is ${bytes.byteLength} bytes, over the limit of ${maxKeyBytes} bytes (maxKeyBytes)`,
    );
  }
  return bytes;
}

/**
 * A string that identifies the key's bytes exactly (one char per byte), for Maps. Not UTF-8
 * decoding, which would merge distinct invalid sequences.
 */
export function keyId(key: Uint8Array): string {
  let s = "";
  for (let i = 0; i < key.length; i += 4096) {
    s += String.fromCharCode.apply(null, key.subarray(i, i + 4096) as unknown as number[]);
  }
  return s;
}

/** Inverse of {@link keyId}. */
export function keyFromId(id: string): Uint8Array {
  const out = new Uint8Array(id.length);
  for (let i = 0; i < id.length; i++) out[i] = id.charCodeAt(i);
  return out;
}
