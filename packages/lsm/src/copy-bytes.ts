/**
 * A real copy of a byte range, as a Node Buffer (a Uint8Array subclass) owned by the caller.
 *
 * Why a Buffer: `new Uint8Array(n)` for n > 64 allocates an off-heap backing store (~0.4 us),
 * while Buffer.allocUnsafe takes small sizes from Node's pool (~0.1 us); values handed to users
 * are copied on every get and iterator step. Never use `.slice()` to copy arrays that may be
 * Buffers: Buffer#slice returns a view sharing memory.
 */
export function copyBytes(src: Uint8Array, start = 0, end: number = src.length): Buffer {
  const n = end - start;
  const out = Buffer.allocUnsafe(n);
  if (n <= 64) {
    // A loop also avoids subarray(), which on a small on-heap typed array forces V8 to move
    // its bytes off-heap first.
    for (let i = 0; i < n; i++) out[i] = src[start + i]!;
  } else {
    out.set(start === 0 && end === src.length ? src : src.subarray(start, end));
  }
  return out;
}
