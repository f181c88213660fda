import { describe, expect, it } from "vitest";
import { BufferPool } from "./buffer-pool.js";

describe("BufferPool", () => {
  it("reuses given-back buffers, up to maxIdle of them", () => {
    const p = new BufferPool(1024, 2);
    const a = p.take();
    const b = p.take();
    const c = p.take();
    expect(a.length).toBe(1024);
    expect(new Set([a, b, c]).size).toBe(3);
    p.give(a);
    p.give(b);
    p.give(c); // over maxIdle: left to the garbage collector
    p.give(a); // already idle: not kept twice
    expect(p.idleCount).toBe(2);
    const d = p.take();
    const e = p.take();
    expect(new Set([d, e])).toEqual(new Set([a, b]));
    expect(p.take()).not.toBe(c);
  });

  it("serves larger requests with unpooled buffers and ignores foreign ones", () => {
    const p = new BufferPool(1024, 4);
    const big = p.take(5000);
    expect(big.length).toBe(5000);
    p.give(big);
    p.give(new Uint8Array(new ArrayBuffer(2048), 1024, 1024)); // a view, not a pool buffer
    expect(p.idleCount).toBe(0);
    expect(p.take(10).length).toBe(1024);
  });
});
