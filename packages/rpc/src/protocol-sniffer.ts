/**
 * Decides per TCP connection whether the client speaks HTTP/2 with prior knowledge (h2c) or
 * HTTP/1.x, by looking at its first bytes: every h2c connection starts with the fixed
 * 24-byte client preface. Node's cleartext http2 server rejects HTTP/1.1, and its http server
 * knows no HTTP/2, so one port serving both needs this step in front of them.
 */
import type { Socket } from "node:net";
import { MUX_TCP_MAGIC } from "./tcp-stream.js";

/** RFC 9113 section 3.4; do not change. */
export const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export type SniffedProtocol = "h2c" | "http1" | "mux-tcp";

/**
 * Classifies what a connection sent so far: "h2c" once the full preface arrived, "mux-tcp"
 * once the full mux-tcp magic arrived (tcp-stream.ts), "http1" as soon as a byte differs from
 * both, undefined while the bytes are a strict prefix of one of them.
 */
export function classifyPrefix(bytes: Uint8Array): SniffedProtocol | undefined {
  if (bytes.length === 0) return undefined;
  const [marker, name] =
    bytes[0] === MUX_TCP_MAGIC[0]
      ? ([MUX_TCP_MAGIC, "mux-tcp"] as const)
      : ([HTTP2_PREFACE, "h2c"] as const);
  const n = Math.min(bytes.length, marker.length);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== marker[i]) return "http1";
  }
  return bytes.length >= marker.length ? name : undefined;
}

/**
 * Reads the first bytes of `socket` until they classify, puts them back (unshift), and calls
 * `onProtocol` with the socket paused and untouched otherwise. Destroys the socket if nothing
 * classifiable arrives within `timeoutMs` or the peer ends first.
 */
export function sniffProtocol(
  socket: Socket,
  timeoutMs: number,
  onProtocol: (protocol: SniffedProtocol) => void,
): void {
  let buffered: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const cleanup = (): void => {
    clearTimeout(timer);
    socket.removeListener("readable", onReadable);
    socket.removeListener("error", onError);
    socket.removeListener("end", onEnd);
  };
  const onError = (): void => {
    cleanup();
    socket.destroy();
  };
  const onEnd = (): void => {
    cleanup();
    socket.destroy();
  };
  const onReadable = (): void => {
    for (;;) {
      const chunk: Buffer | null = socket.read();
      if (chunk === null) return;
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const protocol = classifyPrefix(buffered);
      if (protocol !== undefined) {
        cleanup();
        socket.unshift(buffered);
        onProtocol(protocol);
        return;
      }
    }
  };
  socket.on("readable", onReadable);
  socket.on("error", onError);
  socket.on("end", onEnd);
}
