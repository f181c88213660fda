import { describe, expect, it } from "vitest";
import { ByteBudget, Charge } from "./budget.js";

describe("ByteBudget and Charge", () => {
  it("charges several budgets together or none of them", () => {
    const conn = new ByteBudget("conn", 100);
    const cls = new ByteBudget("class", 150);
    const other = new Charge([new ByteBudget("conn 2", 100), cls]);
    expect(other.tryCharge(80)).toBe(true);
    const c = new Charge([conn, cls]);
    expect(c.tryCharge(50)).toBe(true);
    // Room on the connection, none left in the class: nothing is taken anywhere.
    expect(c.tryCharge(30)).toBe(false);
    expect(conn.used).toBe(50);
    expect(cls.used).toBe(130);
    c.release(20);
    expect([conn.used, cls.used, c.held]).toEqual([30, 110, 30]);
    c.releaseAll();
    c.release(10);
    expect([conn.used, cls.used, c.held]).toEqual([0, 80, 0]);
  });

  it("admits one charge larger than the limit into an empty budget, and lets a unary request grow alone", () => {
    const b = new ByteBudget("b", 10);
    const big = new Charge([b]);
    expect(big.tryCharge(25)).toBe(true);
    // Not empty any more: another charge must fit.
    expect(new Charge([b]).tryCharge(1)).toBe(false);
    // The holder itself may grow only when it asks to be treated as alone.
    expect(big.tryCharge(5)).toBe(false);
    expect(big.tryCharge(5, true)).toBe(true);
    expect(b.used).toBe(30);
    const other = new Charge([b]);
    big.release(25);
    expect(other.tryCharge(4)).toBe(true);
    expect(big.tryCharge(5, true)).toBe(false);
  });

  it("forced charges overdraw, and block others until released", () => {
    const b = new ByteBudget("b", 10);
    const c = new Charge([b]);
    c.forceCharge(15);
    expect(b.used).toBe(15);
    expect(b.free).toBe(0);
    expect(new Charge([b]).tryCharge(1)).toBe(false);
    c.release(15);
    expect(new Charge([b]).tryCharge(10)).toBe(true);
  });

  it("wakes a waiter when a release makes room, and fails it when its signal aborts", async () => {
    const b = new ByteBudget("b", 10);
    const holder = new Charge([b]);
    holder.forceCharge(8);
    const waiter = new Charge([b]);
    let granted = false;
    const wait = waiter.waitCharge(5, new AbortController().signal).then(() => {
      granted = true;
    });
    await Promise.resolve();
    holder.release(2);
    await Promise.resolve();
    // 6 + 5 > 10: still waiting.
    expect(granted).toBe(false);
    holder.release(6);
    await wait;
    expect(granted).toBe(true);
    expect(b.used).toBe(5);

    const ac = new AbortController();
    const blocked = new Charge([b]).waitCharge(9, ac.signal);
    ac.abort(new Error("request ended"));
    await expect(blocked).rejects.toThrow("request ended");
    expect(b.used).toBe(5);
  });

  it("refuses to account below zero", () => {
    const b = new ByteBudget("b", 10);
    expect(() => b.sub(1)).toThrow(/accounting broke/);
  });
});
