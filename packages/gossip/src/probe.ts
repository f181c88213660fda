import type { Awareness } from "./awareness.js";
import { encodeMessage } from "./codec.js";
import type { ResolvedGossipConfig } from "./config.js";
import type { IndirectPingMessage } from "./messages.js";
import type { Timers } from "./timers.js";

/** Fraction of an indirect probe's window after which the helper sends its nack. */
const NACK_FRACTION = 0.8;

interface AckHandler {
  onAck(): void;
  onNack(): void;
}

/** Probes in flight by sequence number, and the acks and nacks that answer them. */
export class AckTracker {
  private readonly handlers = new Map<number, AckHandler>();
  private seq: number;

  constructor(firstSeq: number) {
    this.seq = firstSeq >>> 0;
  }

  nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  /** Returns a function that forgets the handler. */
  register(seq: number, handler: AckHandler): () => void {
    this.handlers.set(seq, handler);
    return () => {
      if (this.handlers.get(seq) === handler) this.handlers.delete(seq);
    };
  }

  ack(seq: number): void {
    this.handlers.get(seq)?.onAck();
  }

  nack(seq: number): void {
    this.handlers.get(seq)?.onNack();
  }

  clear(): void {
    this.handlers.clear();
  }
}

export interface ProbeTarget {
  readonly id: string;
  readonly address: string;
  readonly incarnation: number;
  readonly suspect: boolean;
}

/** What a probe needs from its Gossip instance. */
export interface ProbeContext {
  readonly selfId: string;
  readonly selfAddress: string;
  readonly config: ResolvedGossipConfig;
  readonly awareness: Awareness;
  readonly timers: Timers;
  readonly acks: AckTracker;
  /** Sends encoded messages (plus piggybacked updates) to `address`. */
  send(address: string, parts: Uint8Array[]): void;
  /** Up to `k` live members other than this node and `excludeId`, to ask for indirect probes. */
  helpers(excludeId: string, k: number): { readonly address: string }[];
}

export interface ProbeOutcome {
  readonly ok: boolean;
  /** Indirect probes sent. */
  readonly indirect: number;
  /** Nacks received from those helpers. */
  readonly nacks: number;
}

/**
 * One SWIM probe with Lifeguard's changes. A direct ping waits probeTimeout (scaled by local
 * health); without an ack, `indirectChecks` helpers ping the target too and forward its ack or
 * send a nack. An ack from anywhere before the end of the probe interval (also scaled) is a
 * success. A ping to a suspect carries the suspicion itself (Lifeguard's "buddy system"), so
 * the member learns it is suspected from the first node that probes it and can refute at once.
 *
 * Local health: success lowers the score by 1; a failure raises it by the number of nacks that
 * did not come (helpers that did not answer point at this node's own links), or by 1 when no
 * helper was available. `done` runs once, at the ack or at the end of the interval.
 */
export function startProbe(
  ctx: ProbeContext,
  target: ProbeTarget,
  done: (outcome: ProbeOutcome) => void,
): void {
  const seq = ctx.acks.nextSeq();
  const intervalMs = ctx.awareness.scale(ctx.config.probeIntervalMs);
  const timeoutMs = ctx.awareness.scale(ctx.config.probeTimeoutMs);
  let finished = false;
  let indirect = 0;
  let nacks = 0;
  const cancels: (() => void)[] = [];
  const finish = (ok: boolean): void => {
    if (finished) return;
    finished = true;
    for (const cancel of cancels) cancel();
    ctx.awareness.applyDelta(ok ? -1 : indirect > 0 ? indirect - nacks : 1);
    done({ ok, indirect, nacks });
  };
  cancels.push(
    ctx.acks.register(seq, {
      onAck: () => finish(true),
      onNack: () => {
        nacks++;
      },
    }),
  );
  const parts: Uint8Array[] = [];
  if (target.suspect) {
    // Before the ping: the target handles the suspicion first, so its refutation rides the ack.
    parts.push(
      encodeMessage({
        type: "suspect",
        id: target.id,
        incarnation: target.incarnation,
        from: ctx.selfId,
      }),
    );
  }
  parts.push(
    encodeMessage({
      type: "ping",
      seq,
      targetId: target.id,
      sourceId: ctx.selfId,
      sourceAddress: ctx.selfAddress,
    }),
  );
  ctx.send(target.address, parts);
  cancels.push(
    ctx.timers.after(timeoutMs, () => {
      const helpers = ctx.helpers(target.id, ctx.config.indirectChecks);
      indirect = helpers.length;
      const request = encodeMessage({
        type: "indirect-ping",
        seq,
        targetId: target.id,
        targetAddress: target.address,
        sourceId: ctx.selfId,
        sourceAddress: ctx.selfAddress,
        timeoutMs: Math.max(1, intervalMs - timeoutMs),
      });
      for (const helper of helpers) ctx.send(helper.address, [request]);
    }),
  );
  cancels.push(ctx.timers.after(intervalMs, () => finish(false)));
}

/**
 * Helps another member's probe: pings the target and forwards its ack to the requester, or
 * sends a nack when no ack came within most of the requester's window.
 */
export function relayIndirectPing(ctx: ProbeContext, request: IndirectPingMessage): void {
  const seq = ctx.acks.nextSeq();
  const cancels: (() => void)[] = [];
  const end = (): void => {
    for (const cancel of cancels) cancel();
  };
  cancels.push(
    ctx.acks.register(seq, {
      onAck: () => {
        end();
        ctx.send(request.sourceAddress, [encodeMessage({ type: "ack", seq: request.seq })]);
      },
      onNack: () => {},
    }),
  );
  ctx.send(request.targetAddress, [
    encodeMessage({
      type: "ping",
      seq,
      targetId: request.targetId,
      sourceId: ctx.selfId,
      sourceAddress: ctx.selfAddress,
    }),
  ]);
  cancels.push(
    ctx.timers.after(request.timeoutMs * NACK_FRACTION, () => {
      ctx.send(request.sourceAddress, [encodeMessage({ type: "nack", seq: request.seq })]);
    }),
  );
  // A late ack is still worth forwarding until the requester's window closes.
  cancels.push(ctx.timers.after(request.timeoutMs, end));
}
