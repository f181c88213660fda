import { describe, expect, it } from "vitest";
import { KeyLock } from "./key-lock.js";

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const turn = () => new Promise((r) => setImmediate(r));

describe("KeyLock", () => {
  it("runs sections of one key one after the other, in call order", async () => {
    const lock = new KeyLock();
    const log: string[] = [];
    const first = deferred();
    const a = lock.run("k", async () => {
      log.push("a start");
      await first.promise;
      log.push("a end");
      return "a";
    });
    const b = lock.run("k", async () => {
      log.push("b");
      return "b";
    });
    const c = lock.run("k", async () => {
      log.push("c");
      return "c";
    });
    await turn();
    expect(log).toEqual(["a start"]);
    expect(lock.held("k")).toBe(true);
    first.resolve();
    expect(await Promise.all([a, b, c])).toEqual(["a", "b", "c"]);
    expect(log).toEqual(["a start", "a end", "b", "c"]);
  });

  it("runs sections of different keys concurrently", async () => {
    const lock = new KeyLock();
    const gate = deferred();
    const started: string[] = [];
    const a = lock.run("a", async () => {
      started.push("a");
      await gate.promise;
    });
    const b = lock.run("b", async () => {
      started.push("b");
      await gate.promise;
    });
    await turn();
    expect(started).toEqual(["a", "b"]);
    expect(lock.size).toBe(2);
    gate.resolve();
    await Promise.all([a, b]);
  });

  it("a failing section rejects its caller only and frees the key for the next", async () => {
    const lock = new KeyLock();
    const failed = lock.run("k", async () => {
      throw new Error("boom");
    });
    const thrown = lock.run("k", () => {
      throw new Error("sync boom");
    });
    const next = lock.run("k", async () => "ok");
    await expect(failed).rejects.toThrow("boom");
    await expect(thrown).rejects.toThrow("sync boom");
    expect(await next).toBe("ok");
    // A synchronous throw on a free key is a rejection too, not an exception at the call.
    await expect(
      lock.run("free", () => {
        throw new Error("now");
      }),
    ).rejects.toThrow("now");
  });

  it("forgets a key once its last section ended", async () => {
    const lock = new KeyLock();
    await lock.run("k", async () => 1);
    await turn();
    expect(lock.held("k")).toBe(false);
    expect(lock.size).toBe(0);
    const gate = deferred();
    const p = lock.run("k", () => gate.promise);
    expect(lock.held("k")).toBe(true);
    gate.resolve();
    await p;
    await turn();
    expect(lock.size).toBe(0);
  });
});
