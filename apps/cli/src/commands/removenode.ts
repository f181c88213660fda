import { RemoveNodeResponseSchema } from "@distkv/rpc";
import { ExitCode } from "../errors.js";
import { formatRemoveNode } from "../format.js";
import type { CommandContext } from "../io.js";
import { printResult, withClient } from "./with-client.js";

export interface RemoveNodeInput {
  nodeId: string;
}

/**
 * `removenode <node-id>`: removes a node that died for good, without its data
 * (ClusterService.RemoveNode, unary; Cassandra's `nodetool removenode`). The answering node
 * marks it left, gossip spreads that, and its ranges move to the remaining nodes; repair (or
 * anti-entropy) then copies the data to the new replicas. --json prints the RemoveNodeResponse
 * in protobuf's canonical JSON. Exit 0 once removed (or if it had already left); a node the
 * answering node does not see dead is FAILED_PRECONDITION and an unknown one NOT_FOUND, both
 * exit 4 like every rejected request.
 */
export async function runRemoveNode(
  ctx: CommandContext,
  input: RemoveNodeInput,
): Promise<ExitCode> {
  const res = await withClient(ctx, (c) => c.cluster.removeNode({ nodeId: input.nodeId }));
  printResult(ctx, RemoveNodeResponseSchema, res, () =>
    formatRemoveNode(res.nodeId === "" ? input.nodeId : res.nodeId),
  );
  return ExitCode.Ok;
}
