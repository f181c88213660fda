/**
 * Helpers the commands share. `withClient` runs one RPC with a fresh client: creates it from the
 * injected factory, translates what the call throws into a CliError naming the address, and
 * always closes the client.
 */
import {
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
  toJson,
} from "@bufbuild/protobuf";
import type { RequestOptionsSchema } from "@distkv/rpc";
import { ServerFailedError } from "../errors.js";
import type { CliClient, CommandContext } from "../io.js";
import { ProgressLine } from "../progress.js";
import { toCliError } from "../rpc-errors.js";

export async function withClient<T>(
  ctx: CommandContext,
  call: (client: CliClient) => Promise<T>,
): Promise<T> {
  const { baseUrl, timeoutMs } = ctx.options;
  const client = ctx.createClient({ baseUrl, timeoutMs });
  try {
    return await call(client);
  } catch (e) {
    throw toCliError(e, { address: baseUrl, timeoutMs });
  } finally {
    client.close();
  }
}

/** The per-request options every command sends: its consistency level and its deadline. */
export function requestOptions(ctx: CommandContext): MessageInitShape<typeof RequestOptionsSchema> {
  return { consistency: ctx.options.consistency, timeoutMs: ctx.options.timeoutMs };
}

/**
 * Prints a command's result on stdout: with --json the response message in protobuf's
 * canonical JSON mapping on one line, zero fields included (64-bit integers as strings, enums
 * as names); otherwise `text()`.
 */
export function printResult<Desc extends DescMessage>(
  ctx: CommandContext,
  schema: Desc,
  message: MessageShape<Desc>,
  text: () => string,
): void {
  if (ctx.options.json) {
    const json = toJson(schema, message, { alwaysEmitImplicit: true });
    ctx.stdout.write(`${JSON.stringify(json)}\n`);
  } else {
    ctx.stdout.write(text());
  }
}

/**
 * Follows a server stream of progress snapshots (repair, cleanup): each one before the last is
 * a progress line on stderr (none with --json); resolves to the last, which must have `done`
 * set, or fails as the server ending the stream early (`ended the <what> stream before
 * <until>`).
 */
export async function followProgress<T extends { readonly done: boolean }>(
  ctx: CommandContext,
  what: string,
  until: string,
  open: (client: CliClient) => AsyncIterable<T>,
  line: (snapshot: T) => string,
): Promise<T> {
  const progress = new ProgressLine(ctx.stderr, !ctx.options.json);
  let last: T | undefined;
  try {
    await withClient(ctx, async (c) => {
      for await (const m of open(c)) {
        last = m;
        if (!m.done) progress.show(line(m));
      }
    });
  } finally {
    progress.end();
  }
  if (last === undefined || !last.done) {
    throw new ServerFailedError(
      "internal",
      `DistKV at ${ctx.options.baseUrl} ended the ${what} stream before ${until}`,
    );
  }
  return last;
}
