import { decodeDatagram, encodeDatagram } from "./codec.js";
import { GossipAbortedError, PushPullError } from "./errors.js";
import type { PushPullMessage } from "./messages.js";
import type { Timers } from "./timers.js";
import type { Transport } from "./transport.js";

/**
 * Replies to push-pull requests sent as plain datagrams (a transport without `request`),
 * matched by nonce.
 */
export class PushPullWaiters {
  private readonly waiting = new Map<number, (reply: PushPullMessage) => void>();

  /** Resolves with the reply carrying `nonce`; rejects when `signal` aborts. */
  wait(nonce: number, signal: AbortSignal): Promise<PushPullMessage> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.waiting.delete(nonce);
        reject(signal.reason);
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiting.set(nonce, (reply) => {
        signal.removeEventListener("abort", onAbort);
        this.waiting.delete(nonce);
        resolve(reply);
      });
    });
  }

  /** Hands a reply to its waiter; false when nobody waits for it (late or unknown). */
  deliver(reply: PushPullMessage): boolean {
    const waiter = this.waiting.get(reply.nonce);
    if (waiter === undefined) return false;
    waiter(reply);
    return true;
  }
}

export interface ExchangeOptions {
  readonly transport: Transport;
  readonly timers: Timers;
  readonly waiters: PushPullWaiters;
  readonly timeoutMs: number;
  /** Aborts the exchange: the caller's signal and gossip's own shutdown signal. */
  readonly signals: readonly AbortSignal[];
}

/**
 * Sends this node's state to `address` and returns the peer's, over `transport.request` when
 * the transport has it, else as two datagrams. Rejects with PushPullError (timeout, unreachable
 * peer, a reply that is not a push-pull) or GossipAbortedError.
 */
export async function exchangeState(
  options: ExchangeOptions,
  address: string,
  request: PushPullMessage,
): Promise<PushPullMessage> {
  const controller = new AbortController();
  const cancelTimer = options.timers.after(options.timeoutMs, () =>
    controller.abort(
      new PushPullError(`push-pull with ${address} timed out after ${options.timeoutMs} ms`),
    ),
  );
  const onAbort = (): void => {
    controller.abort(new GossipAbortedError(`push-pull with ${address} aborted`));
  };
  for (const s of options.signals) {
    if (s.aborted) onAbort();
    else s.addEventListener("abort", onAbort, { once: true });
  }
  try {
    const data = encodeDatagram([request]);
    const { transport } = options;
    if (transport.request === undefined) {
      const reply = options.waiters.wait(request.nonce, controller.signal);
      transport.send(address, data);
      return await reply;
    }
    let replyBytes: Uint8Array;
    try {
      replyBytes = await transport.request(address, data, controller.signal);
    } catch (cause) {
      const reason: unknown = controller.signal.reason;
      if (controller.signal.aborted && reason instanceof Error) throw reason;
      throw new PushPullError(`push-pull with ${address} failed`, { cause });
    }
    let reply: PushPullMessage | undefined;
    try {
      reply = decodeDatagram(replyBytes).find(
        (m): m is PushPullMessage => m.type === "push-pull" && m.reply,
      );
    } catch (cause) {
      throw new PushPullError(`push-pull reply from ${address} is malformed`, { cause });
    }
    if (reply === undefined) {
      throw new PushPullError(`push-pull reply from ${address} carries no member list`);
    }
    return reply;
  } finally {
    cancelTimer();
    for (const s of options.signals) s.removeEventListener("abort", onAbort);
  }
}
