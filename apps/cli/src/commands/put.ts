import { readFile } from "node:fs/promises";
import type { ValueSource } from "../command-line.js";
import { ExitCode, UsageError } from "../errors.js";
import { formatAcked, parseContext, toBase64, utf8 } from "../format.js";
import type { CommandContext } from "../io.js";
import { requestOptions, withClient } from "./with-client.js";

export interface PutInput {
  key: string;
  value: ValueSource;
  /** Base64 context from a get; undefined to overwrite. */
  context: string | undefined;
  showContext: boolean;
}

/** Where `-` reads from; process.stdin in the real CLI. */
export type InputStream = AsyncIterable<Uint8Array | string>;

/** Reads the value bytes named by the command line (text, stdin, or a file). */
export async function readValue(
  source: ValueSource,
  stdin: InputStream | undefined,
): Promise<Uint8Array> {
  switch (source.kind) {
    case "text":
      return utf8(source.text);
    case "stdin": {
      if (stdin === undefined) throw new UsageError('no standard input to read "-" from', "put");
      const chunks: Buffer[] = [];
      for await (const chunk of stdin) {
        chunks.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk));
      }
      return new Uint8Array(Buffer.concat(chunks));
    }
    case "file":
      try {
        return new Uint8Array(await readFile(source.path));
      } catch (e) {
        const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        throw new UsageError(
          `cannot read --value-file ${JSON.stringify(source.path)}: ${reason}`,
          "put",
          { cause: e },
        );
      }
  }
}

/** `put <key> <value>`: stores the value; prints "OK" (or JSON). */
export async function runPut(
  ctx: CommandContext,
  input: PutInput,
  stdin?: InputStream,
): Promise<ExitCode> {
  // Local validation first: a bad context or unreadable file must not cost a round trip.
  const context = parseContext(input.context, "put");
  const value = await readValue(input.value, stdin);
  const res = await withClient(ctx, (c) =>
    c.kv.put({ key: utf8(input.key), value, context, options: requestOptions(ctx) }),
  );
  if (ctx.options.json) {
    ctx.stdout.write(
      `${JSON.stringify({ key: input.key, replicasAcked: res.replicasAcked, context: toBase64(res.context) })}\n`,
    );
  } else {
    ctx.stdout.write(formatAcked("OK", res.replicasAcked));
    if (input.showContext) ctx.stdout.write(`context: ${toBase64(res.context)}\n`);
  }
  return ExitCode.Ok;
}
