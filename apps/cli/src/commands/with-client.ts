/**
 * Runs one RPC with a fresh client: creates it from the injected factory, translates what the
 * call throws into a CliError naming the address, and always closes the client.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
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
