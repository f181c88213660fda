/**
 * The claim the package exists for: the bytes an exchange costs grow with the number of
 * differing keys (times the depth of the tree, a log of the data size), not with the number
 * of keys held. Prints the table it measures. Bytes are deterministic for this data, so the
 * assertions are too; no timing is asserted.
 */
import { describe, expect, it } from "vitest";
import { diffTrees, inProcessRemote, MerkleTree } from "../src/index.js";
import { bytes, sha256Token } from "./support.js";

const SIZES = [5_000, 20_000, 80_000];
const DIFFS = [1, 10, 100];

function tree(n: number): MerkleTree {
  const t = new MerkleTree({ tokenOf: sha256Token });
  for (let i = 0; i < n; i++) t.set(bytes(`user:${i}`), bytes(`value-${i}`));
  return t;
}

describe("bytes exchanged", () => {
  it("grow with the differences, not with the data", async () => {
    const total = new Map<string, number>();
    const rows: string[] = [];
    for (const n of SIZES) {
      const left = tree(n);
      const right = tree(n);
      for (const d of DIFFS) {
        const touched: number[] = [];
        for (let j = 0; j < d; j++) {
          const i = Math.floor((j * n) / d);
          touched.push(i);
          if (j % 2 === 0) right.set(bytes(`user:${i}`), bytes("changed"));
          else right.delete(bytes(`user:${i}`));
        }
        const r = await diffTrees(left, inProcessRemote(right));
        expect(r.differences).toHaveLength(d);
        const sum = r.bytesSent + r.bytesReceived;
        total.set(`${n}/${d}`, sum);
        rows.push(`| ${n} | ${d} | ${sum} | ${Math.round(sum / d)} | ${r.roundTrips} |`);
        for (const i of touched) right.set(bytes(`user:${i}`), bytes(`value-${i}`));
      }
    }
    console.log(
      [
        "| keys | differing | bytes exchanged | per differing key | round trips |",
        "| ---: | ---: | ---: | ---: | ---: |",
        ...rows,
      ].join("\n"),
    );
    for (const n of SIZES) {
      // More differences, more bytes...
      expect(total.get(`${n}/10`)!).toBeGreaterThan(total.get(`${n}/1`)!);
      expect(total.get(`${n}/100`)!).toBeGreaterThan(total.get(`${n}/10`)!);
      // ...and far fewer than sending every key with its digest.
      expect(total.get(`${n}/100`)!).toBeLessThan((n * (10 + 16)) / 2);
    }
    for (const d of DIFFS) {
      // 16 times the data costs at most 2.5 times the bytes (one or two levels more).
      expect(total.get(`80000/${d}`)!).toBeLessThan(2.5 * total.get(`5000/${d}`)!);
    }
  });
});
