import { ExitCode } from "../errors.js";
import { displayKey, formatGet, getToJson, utf8 } from "../format.js";
import type { CommandContext } from "../io.js";
import { requestOptions, withClient } from "./with-client.js";

export interface GetInput {
  key: string;
  showContext: boolean;
}

/**
 * `get <key>`: prints the value, or every sibling numbered when writes were concurrent. A key
 * with no live value prints "not found" on stderr (JSON: found=false on stdout) and exits 1.
 */
export async function runGet(ctx: CommandContext, input: GetInput): Promise<ExitCode> {
  const res = await withClient(ctx, (c) =>
    c.kv.get({ key: utf8(input.key), options: requestOptions(ctx) }),
  );
  const found = res.found && res.siblings.length > 0;
  if (ctx.options.json) {
    ctx.stdout.write(`${JSON.stringify({ ...getToJson(input.key, res), found })}\n`);
    return found ? ExitCode.Ok : ExitCode.NotFound;
  }
  if (!found) {
    ctx.stderr.write(`not found: ${displayKey(input.key)}\n`);
    return ExitCode.NotFound;
  }
  for (const chunk of formatGet(res, input.showContext)) ctx.stdout.write(chunk);
  return ExitCode.Ok;
}
