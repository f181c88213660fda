/**
 * Runs one RPC with a fresh client: creates it from the injected factory, translates what the
 * call throws into a CliError naming the address, and always closes the client.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { RequestOptionsSchema } from "@distkv/rpc";
import type { CliClient, CommandContext } from "../io.js";
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
