/**
 * Shared pieces of the engine tests: a plain sorted-map model, tiny option sets that push every
 * code path (flush, compaction, manifest swap, table-cache eviction) after a handful of writes,
 * and small key/value generators that collide often.
 */

import fc from "fast-check";
import type { Db, DbOptions } from "../../src/index.js";

export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));

/** A sorted map from key (hex) to value, the reference the database must agree with. */
export class Model {
  readonly map = new Map<string, Uint8Array>();

  clone(): Model {
    const m = new Model();
    for (const [k, v] of this.map) m.map.set(k, v);
    return m;
  }

  put(k: Uint8Array, v: Uint8Array): void {
    this.map.set(hex(k), v);
  }

  del(k: Uint8Array): void {
    this.map.delete(hex(k));
  }

  get(k: Uint8Array): Uint8Array | undefined {
    return this.map.get(hex(k));
  }

  /** Entries in key order within the bounds, as [hexKey, hexValue]. */
  range(o: RangeSpec): [string, string][] {
    // Hex strings of equal-length prefixes compare like bytes; compare via Buffer to be exact.
    const keys = [...this.map.keys()].map(unhex).sort((a, b) => Buffer.compare(a, b));
    let out = keys.filter((k) => inRange(k, o));
    if (o.reverse === true) out = out.reverse();
    if (o.limit !== undefined) out = out.slice(0, o.limit);
    return out.map((k) => [hex(k), hex(this.map.get(hex(k))!)]);
  }

  /** A canonical string of the whole content (for comparing states). */
  fingerprint(): string {
    return JSON.stringify(this.range({}));
  }
}

export interface RangeSpec {
  gt?: Uint8Array;
  gte?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
  prefix?: Uint8Array;
  reverse?: boolean;
  limit?: number;
}

function startsWith(k: Uint8Array, p: Uint8Array): boolean {
  if (k.length < p.length) return false;
  for (let i = 0; i < p.length; i++) if (k[i] !== p[i]) return false;
  return true;
}

export function inRange(k: Uint8Array, o: RangeSpec): boolean {
  const c = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b);
  if (o.gt !== undefined && c(k, o.gt) <= 0) return false;
  if (o.gte !== undefined && c(k, o.gte) < 0) return false;
  if (o.lt !== undefined && c(k, o.lt) >= 0) return false;
  if (o.lte !== undefined && c(k, o.lte) > 0) return false;
  if (o.prefix !== undefined && !startsWith(k, o.prefix)) return false;
  return true;
}

/** Reads a range from the database as [hexKey, hexValue] pairs. */
export async function dbRange(
  db: Db,
  o: RangeSpec & { snapshot?: import("../../src/index.js").Snapshot },
): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const [k, v] of db.iterator(o)) out.push([hex(k), hex(v)]);
  return out;
}

export async function dbFingerprint(db: Db): Promise<string> {
  return JSON.stringify(await dbRange(db, {}));
}

/** Option sets small enough that a few dozen writes flush, compact and swap manifests. */
export const TINY: DbOptions = {
  writeBufferBytes: 1024,
  maxImmutableMemtables: 1,
  targetFileSizeBytes: 512,
  maxBytesForLevelBase: 2048,
  levelSizeMultiplier: 2,
  numLevels: 4,
  l0CompactionTrigger: 2,
  l0SlowdownTrigger: 3,
  l0StopTrigger: 5,
  blockSizeBytes: 64,
  blockRestartInterval: 2,
  blockCacheBytes: 2048,
  maxOpenFiles: 3,
  maxManifestBytes: 256,
  slowdownDelayMs: 1,
};

/** Keys from a small alphabet (including 0x00 and 0xff) so that operations collide. */
export const keyArb = fc
  .array(fc.constantFrom(0x00, 0x01, 0x61, 0x62, 0x63, 0xff), { minLength: 1, maxLength: 3 })
  .map((a) => new Uint8Array(a));

/** Mostly short values, sometimes a few hundred bytes so memtables fill. */
export const valueArb = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 100, maxLength: 400 }) },
);

export const rangeArb: fc.Arbitrary<RangeSpec> = fc.record(
  {
    gt: keyArb,
    gte: keyArb,
    lt: keyArb,
    lte: keyArb,
    prefix: fc
      .array(fc.constantFrom(0x00, 0x61, 0x62, 0xff), { minLength: 0, maxLength: 2 })
      .map((a) => new Uint8Array(a)),
    reverse: fc.boolean(),
    limit: fc.integer({ min: 0, max: 8 }),
  },
  { requiredKeys: [] },
);

/** A deterministic PRNG (mulberry32) for tests that drive themselves from a seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
