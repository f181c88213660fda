/** Keys and values of the crash test, shared by the parent and the child. */

const enc = new TextEncoder();

export function keyFor(round: number, i: number): Uint8Array {
  return enc.encode(`r${String(round).padStart(3, "0")}-k${String(i).padStart(8, "0")}`);
}

/** Parses a key back into (round, i); undefined if it is not one of ours. */
export function parseKey(key: Uint8Array): { round: number; i: number } | undefined {
  const m = /^r(\d{3})-k(\d{8})$/.exec(new TextDecoder().decode(key));
  return m ? { round: Number(m[1]), i: Number(m[2]) } : undefined;
}

/** A value that depends on every bit of (round, i): any corruption shows as a mismatch. */
export function expectedValue(round: number, i: number, big: boolean): Uint8Array {
  const len = big ? 700 + (i % 300) : 100;
  const v = new Uint8Array(len);
  let x = (Math.imul(round + 1, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0;
  for (let j = 0; j < len; j++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    v[j] = x & 0xff;
  }
  return v;
}
