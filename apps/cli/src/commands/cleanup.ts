import { CleanupResponseSchema } from "@distkv/rpc";
import { ExitCode } from "../errors.js";
import { formatCleanup, formatCleanupProgress } from "../format.js";
import type { CommandContext } from "../io.js";
import { followProgress, printResult } from "./with-client.js";

export interface CleanupInput {
  /** The node to clean up; undefined: the node --server names. */
  node: string | undefined;
}

/**
 * `cleanup [--node X]`: deletes the data a node keeps for token ranges it no longer replicates
 * (ClusterService.Cleanup, a server stream of progress snapshots; like Cassandra's `nodetool
 * cleanup`). Progress goes to stderr, the final report to stdout (--json: the last
 * CleanupResponse in protobuf's canonical JSON). Exit 0 once the cleanup finished; a refusal
 * (ring not settled, node joining or leaving, a cleanup already running) is FAILED_PRECONDITION
 * from the server, exit 4 like every rejected request.
 */
export async function runCleanup(ctx: CommandContext, input: CleanupInput): Promise<ExitCode> {
  const last = await followProgress(
    ctx,
    "cleanup",
    "the cleanup finished",
    (c) => c.cluster.cleanup({ nodeId: input.node ?? "" }),
    formatCleanupProgress,
  );
  printResult(ctx, CleanupResponseSchema, last, () => formatCleanup(last));
  return ExitCode.Ok;
}
