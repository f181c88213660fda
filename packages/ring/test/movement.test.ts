/**
 * Minimal movement: adding a node to N moves about 1/(N+1) of the keys, all of them to the new
 * node; removing a node moves only its own keys. Checked on 20,000 keys, for primaries and for
 * preference lists of 3. Prints the moved fractions; the README quotes this output.
 */
import { describe, expect, it } from "vitest";
import { HashRing } from "../src/index.js";

const KEYS = Array.from({ length: 20_000 }, (_, i) => `key-${i}`);
const SIZES = [3, 8, 16, 32, 63];

function ringOf(size: number): HashRing {
  const ring = new HashRing();
  for (let i = 1; i <= size; i++) ring.addNode(`node-${i}`);
  return ring;
}

describe("minimal movement on membership change (20,000 keys, V=150)", () => {
  it("adding a node moves ~1/(N+1) of keys, only to the new node", () => {
    const rows = [
      "N -> N+1 | moved (primary) | ideal 1/(N+1) | new node's exact share | lists changed (n=3) | ideal 3/(N+1)",
    ];
    for (const size of SIZES) {
      const before = ringOf(size);
      const after = before.clone();
      const added = `node-${size + 1}`;
      after.addNode(added);
      let moved = 0;
      let listsChanged = 0;
      // Violations are collected (not asserted per key) to keep 100k checks fast.
      const wrong: string[] = [];
      for (const key of KEYS) {
        const [oldPrimary] = before.preferenceList(key, 1);
        const [newPrimary] = after.preferenceList(key, 1);
        if (oldPrimary !== newPrimary) {
          moved++;
          if (newPrimary !== added) wrong.push(`${key}: moved to ${newPrimary}`);
        }
        const oldList = before.preferenceList(key, 3);
        const newList = after.preferenceList(key, 3);
        if (newList.join() !== oldList.join()) {
          listsChanged++;
          // The new node entered the list; the others kept their order and the last dropped out.
          const others = newList.filter((id) => id !== added);
          if (!newList.includes(added) || others.join() !== oldList.slice(0, 2).join()) {
            wrong.push(`${key}: [${oldList}] -> [${newList}]`);
          }
        }
      }
      expect(wrong.slice(0, 5)).toEqual([]);
      const fraction = moved / KEYS.length;
      const share = after.ownership().get(added)!;
      const share3 = after.ownership(3).get(added)!;
      const ideal = 1 / (size + 1);
      rows.push(
        `${`${size} -> ${size + 1}`.padEnd(8)} | ${fraction.toFixed(4).padStart(15)} | ${ideal
          .toFixed(4)
          .padStart(13)} | ${share.toFixed(4).padStart(22)} | ${(listsChanged / KEYS.length)
          .toFixed(4)
          .padStart(19)} | ${Math.min(1, 3 / (size + 1))
          .toFixed(4)
          .padStart(13)}`,
      );
      // The keys that move are the new node's arcs: sampling error only (5 sigma).
      const sigma = Math.sqrt((share * (1 - share)) / KEYS.length);
      expect(Math.abs(fraction - share)).toBeLessThanOrEqual(5 * sigma);
      const sigma3 = Math.sqrt((share3 * (1 - share3)) / KEYS.length);
      expect(Math.abs(listsChanged / KEYS.length - share3)).toBeLessThanOrEqual(5 * sigma3 + 1e-9);
      // And the new node's share is near the ideal (see the balance test for the spread).
      expect(fraction / ideal).toBeGreaterThan(0.7);
      expect(fraction / ideal).toBeLessThan(1.3);
    }
    console.log(`adding one node\n${rows.join("\n")}`);
  });

  it("removing a node moves only the keys it held, to the next node on the ring", () => {
    const rows = ["N -> N-1 | moved (primary) | removed node's share"];
    for (const size of SIZES.map((s) => s + 1)) {
      const before = ringOf(size);
      const after = before.clone();
      const removed = "node-2";
      after.removeNode(removed);
      let moved = 0;
      let listsChanged = 0;
      const wrong: string[] = [];
      for (const key of KEYS) {
        const oldWalk = [...before.walk(key)];
        const [newPrimary] = after.preferenceList(key, 1);
        if (oldWalk[0] === removed) moved++;
        // The primary changes only if it was the removed node, and then to the next node.
        const expectedPrimary = oldWalk[0] === removed ? oldWalk[1] : oldWalk[0];
        if (newPrimary !== expectedPrimary) wrong.push(`${key}: primary ${newPrimary}`);
        const oldList = oldWalk.slice(0, 3);
        const newList = after.preferenceList(key, 3);
        // Lists change exactly when they held the removed node, which the next node replaces.
        const changed = newList.join() !== oldList.join();
        if (changed) listsChanged++;
        if (changed !== oldList.includes(removed)) wrong.push(`${key}: changed=${changed}`);
        const expectedList = oldWalk.filter((id) => id !== removed).slice(0, 3);
        if (newList.join() !== expectedList.join()) wrong.push(`${key}: list [${newList}]`);
      }
      expect(wrong.slice(0, 5)).toEqual([]);
      expect(listsChanged).toBeGreaterThan(moved);
      const share = before.ownership().get(removed)!;
      rows.push(
        `${`${size} -> ${size - 1}`.padEnd(8)} | ${(moved / KEYS.length).toFixed(4).padStart(15)} | ${share
          .toFixed(4)
          .padStart(20)}`,
      );
      const sigma = Math.sqrt((share * (1 - share)) / KEYS.length);
      expect(Math.abs(moved / KEYS.length - share)).toBeLessThanOrEqual(5 * sigma);
    }
    console.log(`removing one node\n${rows.join("\n")}`);
  });
});
