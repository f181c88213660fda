/** An output stream that keeps what was written, for assertions. */
export interface Captured {
  write(chunk: string | Uint8Array): boolean;
  bytes(): Buffer;
  text(): string;
}

export function capture(): Captured {
  const chunks: Buffer[] = [];
  return {
    write(chunk) {
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk));
      return true;
    },
    bytes: () => Buffer.concat(chunks),
    text: () => Buffer.concat(chunks).toString("utf8"),
  };
}
