import { ExitCode, ServerFailedError } from "../errors.js";
import { batchResultToJson, formatBatch, utf8 } from "../format.js";
import type { CommandContext } from "../io.js";
import { requestOptions, withClient } from "./with-client.js";

export interface BatchInput {
  pairs: ReadonlyArray<readonly [string, string]>;
}

/**
 * `batch <k1> <v1> [<k2> <v2> ...]`: one Batch request of puts. Not a transaction: each put
 * succeeds or fails on its own; every result is printed and the exit code is 5 if any failed.
 */
export async function runBatch(ctx: CommandContext, input: BatchInput): Promise<ExitCode> {
  const operations = input.pairs.map(([key, value]) => ({
    op: { case: "put" as const, value: { key: utf8(key), value: utf8(value) } },
  }));
  const res = await withClient(ctx, (c) =>
    c.kv.batch({ operations, options: requestOptions(ctx) }),
  );
  if (res.results.length !== input.pairs.length) {
    throw new ServerFailedError(
      "internal",
      `DistKV at ${ctx.options.baseUrl} answered a batch of ${input.pairs.length} operations with ${res.results.length} results`,
    );
  }
  const results = input.pairs.map(([key], i) => batchResultToJson(key, res.results[i]));
  const failed = results.filter((r) => !r.ok).length;
  if (ctx.options.json) {
    ctx.stdout.write(
      `${JSON.stringify({ results, succeeded: results.length - failed, failed })}\n`,
    );
  } else {
    ctx.stdout.write(formatBatch(results));
  }
  return failed === 0 ? ExitCode.Ok : ExitCode.PartialFailure;
}
