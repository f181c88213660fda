/**
 * How gossip reaches other nodes. Gossip encodes and decodes its own messages (`codec.ts`); a
 * transport only moves opaque bytes between addresses. The server implements it over its
 * multiplexed peer channel (one `gossip` frame kind carrying the bytes); tests use the simulated
 * network of `@distkv/gossip/testing`.
 */

/** What gossip registers with its transport at `start()`. */
export interface TransportHandler {
  /**
   * A datagram arrived. `from` is the sender's address as the transport knows it, for logs only:
   * the protocol never relies on it (messages carry the addresses to answer to). Synchronous and
   * cheap; never throws (malformed bytes are counted and dropped).
   */
  onMessage(from: string, data: Uint8Array): void;
  /**
   * A request arrived (push-pull over `request`): returns the reply synchronously. Throws
   * GossipDecodeError for malformed bytes, or GossipLifecycleError once gossip has stopped; the
   * transport turns a throw into a failed request.
   */
  onRequest(from: string, data: Uint8Array): Uint8Array;
}

export interface Transport {
  /**
   * Sends a datagram, fire and forget: it may be lost, delayed, duplicated or reordered, and
   * nothing reports whether it arrived. Must not throw for an unreachable or unknown address
   * (drop it instead) and must not block.
   */
  send(toAddress: string, data: Uint8Array): void;
  /**
   * Optional reliable request/response (a stream call), used for push-pull: full member lists
   * can exceed a datagram, and a reply tells the caller the exchange happened. Rejects when the
   * peer cannot be reached, when it answers with an error, or when `signal` aborts (gossip
   * aborts it after `pushPullTimeoutMs`). Without it, push-pull travels as two datagrams (which
   * then must be able to carry the whole member list).
   */
  request?(toAddress: string, data: Uint8Array, signal: AbortSignal): Promise<Uint8Array>;
  /**
   * Starts delivering incoming datagrams and requests to `handler` (one handler at a time);
   * returns a function that stops the delivery. Gossip calls it in `start()` and the returned
   * function in `stop()`.
   */
  listen(handler: TransportHandler): () => void;
}
