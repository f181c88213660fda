import { RepairResponseSchema } from "@distkv/rpc";
import { ExitCode } from "../errors.js";
import { formatRepair, formatRepairProgress } from "../format.js";
import type { CommandContext } from "../io.js";
import { followProgress, printResult } from "./with-client.js";

export interface RepairInput {
  /** The node whose replicas to repair; undefined: the node --server names. */
  node: string | undefined;
}

/**
 * `repair [--node X]`: runs an anti-entropy round now (ClusterService.Repair, a server stream
 * of progress snapshots). Progress goes to stderr, the final report to stdout (--json: the
 * last RepairResponse in protobuf's canonical JSON). Exit 5 when a comparison with a replica
 * failed, 0 otherwise.
 */
export async function runRepair(ctx: CommandContext, input: RepairInput): Promise<ExitCode> {
  const last = await followProgress(
    ctx,
    "repair",
    "the round finished",
    (c) => c.cluster.repair({ nodeId: input.node ?? "" }),
    formatRepairProgress,
  );
  printResult(ctx, RepairResponseSchema, last, () => formatRepair(last));
  return last.peersFailed > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
}
