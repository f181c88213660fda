import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProbeList } from "./probe-list.js";
import { SeededRandom } from "./testing/seeded-random.js";

describe("ProbeList", () => {
  it("visits every eligible member exactly once per round, in a new order each round", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 30 }), (seed, n) => {
        const ids = Array.from({ length: n }, (_, i) => `m${i}`);
        const list = new ProbeList(new SeededRandom(seed).source);
        const rounds: string[][] = [];
        for (let r = 0; r < 3; r++) {
          const round: string[] = [];
          for (let i = 0; i < n; i++)
            round.push(
              list.next(
                () => ids.slice(),
                () => true,
              )!,
            );
          expect([...round].sort()).toEqual([...ids].sort());
          rounds.push(round);
        }
        if (n >= 6) expect(rounds[0]).not.toEqual(rounds[1]);
      }),
    );
  });

  it("skips members no longer eligible and returns undefined when there is none", () => {
    const list = new ProbeList(new SeededRandom(1).source);
    const ids = ["a", "b", "c"];
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++)
      seen.add(
        list.next(
          () => ids,
          (id) => id !== "b",
        )!,
      );
    expect([...seen].sort()).toEqual(["a", "c"]);
    expect(
      new ProbeList(Math.random).next(
        () => [],
        () => true,
      ),
    ).toBeUndefined();
    expect(
      new ProbeList(Math.random).next(
        () => ids,
        () => false,
      ),
    ).toBeUndefined();
  });

  it("a member added mid-round is probed in the same round", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 9 }), (seed, after) => {
        const ids = Array.from({ length: 10 }, (_, i) => `m${i}`);
        const list = new ProbeList(new SeededRandom(seed).source);
        for (let i = 0; i <= after; i++)
          list.next(
            () => ids,
            () => true,
          );
        list.add("new");
        const rest: string[] = [];
        for (let i = after + 1; i < 11; i++)
          rest.push(
            list.next(
              () => ids,
              () => true,
            )!,
          );
        expect(rest).toContain("new");
      }),
    );
  });
});
