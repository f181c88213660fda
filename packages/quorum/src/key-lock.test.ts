import { describe, expect, test } from "vitest";
import { isSettled } from "../test/helpers.js";
import { KeyLock } from "./key-lock.js";

const never = new AbortController().signal;
const aborted = () => new Error("aborted");

describe("KeyLock", () => {
  test("holders of one key run one at a time, in order; other keys do not wait", async () => {
    const lock = new KeyLock();
    const log: string[] = [];
    const hold = async (id: string, name: string) => {
      const release = await lock.acquire(id, never, aborted);
      log.push(`+${name}`);
      await new Promise((r) => setImmediate(r));
      log.push(`-${name}`);
      release();
    };
    await Promise.all([hold("k", "a"), hold("k", "b"), hold("other", "x"), hold("k", "c")]);
    const k = log.filter((e) => !e.endsWith("x"));
    expect(k).toEqual(["+a", "-a", "+b", "-b", "+c", "-c"]);
    expect(log.indexOf("+x")).toBeLessThan(log.indexOf("-a"));
    expect(lock.size).toBe(0);
  });

  test("an abort while waiting rejects and lets the next waiter through", async () => {
    const lock = new KeyLock();
    const first = await lock.acquire("k", never, aborted);
    const controller = new AbortController();
    const second = lock.acquire("k", controller.signal, aborted);
    const third = lock.acquire("k", never, aborted);
    expect(await isSettled(second)).toBe(false);
    controller.abort();
    await expect(second).rejects.toThrow("aborted");
    expect(await isSettled(third)).toBe(false);
    first();
    const release = await third;
    release();
    release(); // idempotent
    await new Promise((r) => setImmediate(r));
    expect(lock.size).toBe(0);
  });

  test("an already aborted signal rejects at once", async () => {
    const lock = new KeyLock();
    await expect(lock.acquire("k", AbortSignal.abort(), aborted)).rejects.toThrow("aborted");
    const release = await lock.acquire("k", never, aborted);
    release();
  });

  test("a signal getter is called only when the caller has to wait", async () => {
    const lock = new KeyLock();
    let asked = 0;
    const controller = new AbortController();
    const getter = () => {
      asked++;
      return controller.signal;
    };
    const first = await lock.acquire("k", getter, aborted);
    expect(asked).toBe(0);
    const second = lock.acquire("k", getter, aborted);
    expect(asked).toBe(1);
    expect(await isSettled(second)).toBe(false);
    controller.abort();
    await expect(second).rejects.toThrow("aborted");
    const third = lock.acquire("k", never, aborted);
    expect(await isSettled(third)).toBe(false);
    first();
    (await third)();
    await new Promise((r) => setImmediate(r));
    expect(lock.size).toBe(0);
  });
});
