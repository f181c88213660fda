import { Code, ConnectError } from "@connectrpc/connect";

export interface LinkFaultRule {
  /** Probability in [0, 1] that a call is dropped. */
  readonly dropProbability: number;
  /** Added before each call that is not dropped. */
  readonly delayMs: number;
}

/**
 * Test-only faults on this node's outgoing node-to-node calls, per destination node (set
 * through FaultService when the node runs with --enable-fault-injection). A dropped call fails
 * with UNAVAILABLE before anything is sent, as if the connection were lost.
 */
export class LinkFaults {
  private rules = new Map<string, LinkFaultRule>();
  dropped = 0;
  delayed = 0;

  constructor(private readonly random: () => number = Math.random) {}

  /** Replaces every rule; an empty list heals all links. */
  set(rules: ReadonlyMap<string, LinkFaultRule>): void {
    for (const [node, r] of rules) {
      if (!(r.dropProbability >= 0 && r.dropProbability <= 1)) {
        throw new ConnectError(
          `drop_probability of the link to ${node} must be in [0, 1], got ${r.dropProbability}`,
          Code.InvalidArgument,
        );
      }
      if (!Number.isInteger(r.delayMs) || r.delayMs < 0 || r.delayMs > 600_000) {
        throw new ConnectError(
          `delay_ms of the link to ${node} must be an integer in [0, 600000], got ${r.delayMs}`,
          Code.InvalidArgument,
        );
      }
    }
    this.rules = new Map(rules);
  }

  get active(): boolean {
    return this.rules.size > 0;
  }

  /** Applies the rule for calls to `nodeId`: resolves when the call may go, rejects if dropped. */
  async apply(nodeId: string | undefined): Promise<void> {
    const rule = nodeId === undefined ? undefined : this.rules.get(nodeId);
    if (rule === undefined) return;
    if (rule.dropProbability > 0 && this.random() < rule.dropProbability) {
      this.dropped++;
      throw new ConnectError(
        `fault injection: the link to ${nodeId} dropped the call`,
        Code.Unavailable,
      );
    }
    if (rule.delayMs > 0) {
      this.delayed++;
      await new Promise((r) => setTimeout(r, rule.delayMs));
    }
  }
}
