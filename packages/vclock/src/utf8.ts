/**
 * UTF-8 helpers for actor ids. Actor ids are short and almost always ASCII (node ids), so the
 * ASCII path avoids a TextDecoder call, which costs more than the conversion itself for a few
 * bytes.
 */

// fatal: malformed UTF-8 must be rejected, not replaced by U+FFFD (decoding must be exact).
// ignoreBOM: a leading U+FEFF is part of the actor id; stripping it would break round-trips.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Number of bytes `s` takes in UTF-8. `s` must be well formed (no lone surrogates). */
export function utf8ByteLength(s: string): number {
  const n = s.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      // A surrogate pair: 2 UTF-16 units, 4 UTF-8 bytes.
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** Decodes bytes [start, end) as UTF-8; throws a TypeError on malformed input. */
export function readUtf8(bytes: Uint8Array, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    // Small (actor ids are at most 255 bytes), so the spread stays far below argument limits.
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  return decoder.decode(bytes.subarray(start, end));
}
