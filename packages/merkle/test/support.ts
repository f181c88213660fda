/** Shared helpers of the tests, bench and examples: a token function and tree builders. */
import { hash } from "node:crypto";
import { MerkleTree, type MerkleTreeOptions } from "../src/index.js";

/** A stand-in for @distkv/ring's tokenOf: the first 8 bytes of SHA-256(key), big-endian. */
export function sha256Token(key: Uint8Array): bigint {
  return hash("sha256", key, "buffer").readBigUInt64BE(0);
}

const utf8 = new TextEncoder();
export const bytes = (s: string): Uint8Array => utf8.encode(s);
export const text = (b: Uint8Array): string => Buffer.from(b).toString("utf8");

/** A tree holding `entries` (key -> version, both text). */
export function treeOf(
  entries: Iterable<readonly [string, string]>,
  options: Partial<MerkleTreeOptions> = {},
): MerkleTree {
  const tree = new MerkleTree({ tokenOf: sha256Token, ...options });
  for (const [k, v] of entries) tree.set(bytes(k), bytes(v));
  return tree;
}

/** The keys two maps hold differently (missing on one side, or different versions), sorted. */
export function expectedDifferences(
  a: ReadonlyMap<string, string>,
  b: ReadonlyMap<string, string>,
): string[] {
  const out = new Set<string>();
  for (const [k, v] of a) if (b.get(k) !== v) out.add(k);
  for (const [k, v] of b) if (a.get(k) !== v) out.add(k);
  return [...out].sort();
}
