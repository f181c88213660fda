import { StatusResponseSchema } from "@distkv/rpc";
import { ExitCode } from "../errors.js";
import { formatStatus } from "../format.js";
import type { CommandContext } from "../io.js";
import { printResult, withClient } from "./with-client.js";

/**
 * `status`: cluster health as the answering node sees it. --json prints the StatusResponse in
 * the canonical protobuf JSON mapping, zero fields included (64-bit integers are strings).
 */
export async function runStatus(ctx: CommandContext): Promise<ExitCode> {
  const res = await withClient(ctx, (c) => c.cluster.status({}));
  printResult(ctx, StatusResponseSchema, res, () => formatStatus(res, ctx.now()));
  return ExitCode.Ok;
}
