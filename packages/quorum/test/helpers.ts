import type { GetResult } from "../src/index.js";
import type { InMemoryCluster } from "../src/testing/index.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const utf8 = (s: string): Uint8Array => encoder.encode(s);
export const text = (b: Uint8Array): string => decoder.decode(b);

/** The live values of a read, decoded and sorted. */
export function valuesOf(result: GetResult): string[] {
  return result.siblings.map((s) => text(s.value)).sort();
}

/** Catches the rejection of `promise` (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection, but the promise resolved");
}

/** Whether `promise` has settled by now (after a microtask flush). */
export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((r) => setImmediate(r));
  return settled;
}

/** The first key `k-<i>` whose preference list satisfies `ok`. */
export function findKey(cluster: InMemoryCluster, ok: (replicas: string[]) => boolean): string {
  for (let i = 0; i < 100_000; i++) {
    const key = `k-${i}`;
    if (ok(cluster.preferenceList(key))) return key;
  }
  throw new Error("no key found");
}

/** Total number of keys stored over all nodes' data stores, and hints over all hint stores. */
export function footprint(cluster: InMemoryCluster): { keys: number; hints: number } {
  let keys = 0;
  let hints = 0;
  for (const node of cluster.nodes()) {
    keys += node.store.size;
    hints += node.hints.size;
  }
  return { keys, hints };
}
