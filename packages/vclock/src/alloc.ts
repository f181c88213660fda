import { Buffer } from "node:buffer";

/**
 * A Uint8Array of `size` bytes for the encoders to fill completely. `new Uint8Array(n)` costs
 * about 0.5 us for small n on Node 20 (each one gets its own ArrayBuffer); Buffer.allocUnsafe
 * carves small ones out of a shared 8 KiB slab at a tenth of that. The bytes are uninitialized,
 * so callers must write every one (the encoders check that they did). The result is a plain
 * Uint8Array view (not a Buffer, whose slice() does not copy); like any pooled allocation its
 * `.buffer` is shared, so go through byteOffset/byteLength if you use `.buffer`.
 */
export function allocBytes(size: number): Uint8Array {
  const b = Buffer.allocUnsafe(size);
  return new Uint8Array(b.buffer, b.byteOffset, size);
}
