import { ExitCode } from "../errors.js";
import { formatAcked, parseContext, toBase64, utf8 } from "../format.js";
import type { CommandContext } from "../io.js";
import { requestOptions, withClient } from "./with-client.js";

export interface DeleteInput {
  key: string;
  /** Base64 context from a get; undefined deletes whatever the coordinator holds. */
  context: string | undefined;
}

/** `delete <key>`: writes a tombstone; deleting a missing key succeeds too. */
export async function runDelete(ctx: CommandContext, input: DeleteInput): Promise<ExitCode> {
  const context = parseContext(input.context, "delete");
  const res = await withClient(ctx, (c) =>
    c.kv.delete({ key: utf8(input.key), context, options: requestOptions(ctx) }),
  );
  if (ctx.options.json) {
    ctx.stdout.write(
      `${JSON.stringify({ key: input.key, deleted: true, replicasAcked: res.replicasAcked, context: toBase64(res.context) })}\n`,
    );
  } else {
    ctx.stdout.write(formatAcked("deleted", res.replicasAcked));
  }
  return ExitCode.Ok;
}
