import { toJson } from "@bufbuild/protobuf";
import {
  NodeState,
  type NodeStatus,
  normalizeBaseUrl,
  type StatusResponse,
  type StreamingStatus,
  StreamingStatusSchema,
} from "@distkv/rpc";
import { formatDuration } from "../duration.js";
import { type CliError, ExitCode, RequestTimeoutError, ServerUnreachableError } from "../errors.js";
import { formatStreaming, nodeStateName } from "../format.js";
import type { CliClient, CommandContext } from "../io.js";
import { ProgressLine } from "../progress.js";
import { toCliError } from "../rpc-errors.js";

export interface DecommissionInput {
  nodeId: string;
}

/** Wait between two status polls. */
export const DECOMMISSION_POLL_MS = 1000;
/** Deadline of one call (the decommission request, each poll), within the overall --timeout. */
export const DECOMMISSION_CALL_TIMEOUT_MS = 5000;

/** One client per node address for the whole command; all closed at the end. */
class Clients {
  private readonly byUrl = new Map<string, CliClient>();
  constructor(private readonly ctx: CommandContext) {}

  get(baseUrl: string): CliClient {
    let c = this.byUrl.get(baseUrl);
    if (c === undefined) {
      c = this.ctx.createClient({ baseUrl, timeoutMs: DECOMMISSION_CALL_TIMEOUT_MS });
      this.byUrl.set(baseUrl, c);
    }
    return c;
  }

  close(): void {
    for (const c of this.byUrl.values()) c.close();
    this.byUrl.clear();
  }
}

function urlOf(node: NodeStatus | undefined): string | undefined {
  if (node === undefined || node.address === "") return undefined;
  try {
    return normalizeBaseUrl(node.address);
  } catch {
    return undefined;
  }
}

/** The request did not complete (unreachable, timed out, unavailable), as opposed to refused. */
function unanswered(e: CliError): boolean {
  return e.exitCode === ExitCode.Unavailable;
}

/**
 * `decommission <node-id>`: asks the --server node to decommission `nodeId` (it returns once
 * the node announced it is leaving), then polls ClusterService.Status until the cluster sees
 * the node as left: the leaving node itself while it answers (its hand-over progress is shown
 * on stderr), then the contacted node or any other known node. --timeout bounds the whole
 * wait. Exit 0 once left; 3 when the wait timed out or no node could be asked; 4 when the
 * request was refused (unknown node, only node of the ring, still joining, ...).
 */
export async function runDecommission(
  ctx: CommandContext,
  input: DecommissionInput,
): Promise<ExitCode> {
  const { baseUrl: server, timeoutMs, json } = ctx.options;
  const started = ctx.now();
  const deadline = started + timeoutMs;
  const clients = new Clients(ctx);
  const progress = new ProgressLine(ctx.stderr, !json);
  const callTimeout = () =>
    Math.max(1, Math.min(DECOMMISSION_CALL_TIMEOUT_MS, deadline - ctx.now()));
  const status = async (url: string): Promise<StatusResponse> => {
    try {
      return await clients.get(url).cluster.status({}, { timeoutMs: callTimeout() });
    } catch (e) {
      throw toCliError(e, { address: url, timeoutMs: callTimeout() });
    }
  };

  try {
    let target = input.nodeId;
    try {
      const res = await clients
        .get(server)
        .cluster.decommission({ nodeId: input.nodeId }, { timeoutMs: callTimeout() });
      if (res.nodeId !== "") target = res.nodeId;
    } catch (e) {
      throw toCliError(e, { address: server, timeoutMs: callTimeout() });
    }
    progress.note(`${target} is leaving the cluster (asked ${server})`);

    // Where the leaving node and the others listen, as the contacted node knows them.
    let known: readonly NodeStatus[] = [];
    let serverId: string | undefined;
    try {
      const s = await status(server);
      known = s.nodes;
      serverId = s.nodeId;
    } catch (e) {
      // The contacted node may itself be the one leaving and already gone; watch others.
      if (!unanswered(e as CliError)) throw e;
    }
    let targetUrl = urlOf(known.find((n) => n.id === target));
    if (targetUrl === undefined && serverId === target) targetUrl = server;
    let watchingTarget = targetUrl !== undefined;
    let streaming: StreamingStatus | undefined;
    let lastState = NodeState.LEAVING;
    let lastError: CliError | undefined;

    for (;;) {
      let left = false;
      if (watchingTarget && targetUrl !== undefined) {
        try {
          const s = await status(targetUrl);
          if (s.nodes.length > 0) known = s.nodes;
          const self = s.nodes.find((n) => n.id === target);
          if (self !== undefined) lastState = self.state;
          if (s.streaming !== undefined) {
            streaming = s.streaming;
            progress.show(formatStreaming(s.streaming));
          }
          left = lastState === NodeState.LEFT;
        } catch (e) {
          const err = e as CliError;
          if (!unanswered(err)) throw err;
          watchingTarget = false;
          progress.note(`${target} stopped answering (${err.message}); asking the other nodes`);
          continue;
        }
      } else {
        // Anyone but the leaving node: the contacted node first, then the others it knew.
        const others = [
          ...(serverId === target || targetUrl === server ? [] : [server]),
          ...known
            .filter((n) => n.id !== target && n.state !== NodeState.LEFT)
            .map(urlOf)
            .filter((u): u is string => u !== undefined && u !== server && u !== targetUrl),
        ];
        let answered = false;
        for (const url of others) {
          try {
            const s = await status(url);
            answered = true;
            if (s.nodes.length > 0) known = s.nodes;
            const seen = s.nodes.find((n) => n.id === target);
            if (seen !== undefined) lastState = seen.state;
            progress.show(`${target}: ${nodeStateName(lastState)} (as ${s.nodeId || url} sees it)`);
            left = lastState === NodeState.LEFT;
            break;
          } catch (e) {
            const err = e as CliError;
            if (!unanswered(err)) throw err;
            lastError = err;
          }
        }
        if (!answered && others.length === 0) {
          throw new ServerUnreachableError(
            server,
            `no other node is known to ask whether ${target} has left`,
          );
        }
      }
      if (left) break;
      if (ctx.now() + DECOMMISSION_POLL_MS >= deadline) {
        progress.end();
        const last =
          streaming === undefined ? "" : `; last progress: ${formatStreaming(streaming)}`;
        const unreachable = lastError === undefined ? "" : `; last failure: ${lastError.message}`;
        throw new RequestTimeoutError(
          server,
          timeoutMs,
          `${target} has not left within ${formatDuration(timeoutMs)} (it is ${nodeStateName(lastState)}${last}${unreachable})`,
        );
      }
      await ctx.sleep(DECOMMISSION_POLL_MS);
    }

    progress.end();
    const elapsedSeconds = (ctx.now() - started) / 1000;
    if (json) {
      ctx.stdout.write(
        `${JSON.stringify({
          nodeId: target,
          left: true,
          elapsedSeconds,
          streaming:
            streaming === undefined
              ? null
              : toJson(StreamingStatusSchema, streaming, { alwaysEmitImplicit: true }),
        })}\n`,
      );
    } else {
      ctx.stdout.write(`${target} has left the cluster (${elapsedSeconds.toFixed(0)}s)\n`);
    }
    return ExitCode.Ok;
  } finally {
    progress.end();
    clients.close();
  }
}
