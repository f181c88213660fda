// Starts real servers on ephemeral loopback ports and closes everything a test opened.
import type { ConnectRouter } from "@connectrpc/connect";
import { afterEach } from "vitest";
import { createDistKVServer, type DistKVServer, type DistKVServerOptions } from "../src/server.js";

type Closer = () => unknown;
const closers: Closer[] = [];

/** Registers a cleanup that runs after the current test, last registered first. */
export function defer(fn: Closer): void {
  closers.push(fn);
}

afterEach(async () => {
  while (closers.length > 0) {
    const fn = closers.pop()!;
    try {
      await fn();
    } catch {
      // Cleanup of something a test already closed.
    }
  }
});

export async function startServer(
  routes: (router: ConnectRouter) => void,
  options: Partial<DistKVServerOptions> = {},
): Promise<DistKVServer> {
  const server = createDistKVServer({ ...options, routes });
  await server.start();
  defer(() => server.stop({ gracePeriodMs: 0 }));
  return server;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every few ms until it holds; fails after `ms`. */
export async function eventually(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await sleep(5);
  }
}

/** A promise with its resolve function, for handlers the test releases by hand. */
export function gate<T = void>(): { promise: Promise<T>; open: (v: T) => void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    open = r;
  });
  return { promise, open };
}
