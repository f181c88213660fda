/**
 * Balance with the default 150 virtual nodes, measured exactly: each node's share is the sum of
 * the sizes of the token arcs it replicates (bigint arithmetic over replicaRanges), not a sample
 * of keys. Prints the spread for every cluster size; the README quotes this output.
 */
import { describe, expect, it } from "vitest";
import { HashRing, RING_SIZE, rangeSize } from "../src/index.js";

interface Spread {
  max: number;
  min: number;
}

/** Busiest and idlest node's share as a multiple of the fair share min(n, N)/N. */
function spread(ring: HashRing, n: number): Spread {
  const sums = new Map<string, bigint>(ring.nodes().map((id) => [id, 0n]));
  let total = 0n;
  for (const { range, replicas } of ring.replicaRanges(n)) {
    const size = rangeSize(range);
    total += size;
    for (const id of replicas) sums.set(id, sums.get(id)! + size);
  }
  // The arcs tile the ring exactly once.
  expect(total).toBe(RING_SIZE);
  const replicas = Math.min(n, ring.size);
  let all = 0n;
  for (const s of sums.values()) all += s;
  expect(all).toBe(RING_SIZE * BigInt(replicas));
  const fair = (Number(RING_SIZE) * replicas) / ring.size;
  const shares = [...sums.values()].map((s) => Number(s) / fair);
  return { max: Math.max(...shares), min: Math.min(...shares) };
}

describe("balance with 150 virtual nodes (exact token ownership)", () => {
  it("for 3..64 nodes the busiest node owns at most ~1.2x its fair share", () => {
    const rows: string[] = ["nodes | primary max | primary min | n=3 max | n=3 min"];
    let worstPrimary = 0;
    let worstN3 = 0;
    let lowest = Infinity;
    for (let size = 3; size <= 64; size++) {
      const ring = new HashRing();
      for (let i = 1; i <= size; i++) ring.addNode(`node-${i}`);
      const p = spread(ring, 1);
      const r = spread(ring, 3);
      rows.push(
        `${String(size).padStart(5)} | ${p.max.toFixed(3).padStart(11)} | ${p.min
          .toFixed(3)
          .padStart(11)} | ${r.max.toFixed(3).padStart(7)} | ${r.min.toFixed(3).padStart(7)}`,
      );
      worstPrimary = Math.max(worstPrimary, p.max);
      worstN3 = Math.max(worstN3, r.max);
      lowest = Math.min(lowest, p.min);
      // Random token placement: a node's share has a relative spread of about 1/sqrt(150) = 8%,
      // so the busiest of 64 sits near +2.4 sigma. Bounds are the measured worst plus a little.
      expect(p.max, `primary, ${size} nodes`).toBeLessThanOrEqual(1.25);
      expect(r.max, `n=3, ${size} nodes`).toBeLessThanOrEqual(1.2);
      expect(p.min, `primary, ${size} nodes`).toBeGreaterThanOrEqual(0.7);
    }
    rows.push(
      `worst over 3..64 nodes: primary max ${worstPrimary.toFixed(3)}, n=3 max ${worstN3.toFixed(
        3,
      )}, primary min ${lowest.toFixed(3)}`,
    );
    console.log(`ring balance, share / fair share (V=150, ids node-1..node-N)\n${rows.join("\n")}`);
  });

  it("more virtual nodes give a tighter spread (64 nodes)", () => {
    const maxFor = (virtualNodes: number) => {
      const ring = new HashRing({ virtualNodes });
      for (let i = 1; i <= 64; i++) ring.addNode(`node-${i}`);
      return spread(ring, 1).max;
    };
    const figures = [16, 150, 512].map((v) => [v, maxFor(v)] as const);
    console.log(
      `64 nodes, primary max share by V: ${figures.map(([v, m]) => `V=${v}: ${m.toFixed(3)}`).join(", ")}`,
    );
    expect(figures[0]![1]).toBeGreaterThan(figures[1]![1]);
    expect(figures[1]![1]).toBeGreaterThan(figures[2]![1]);
  });
});
