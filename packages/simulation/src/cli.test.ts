import { expect, test } from "vitest";
import { parseArgs } from "./args.js";
import { main } from "./cli.js";
import { isInvalidSimulationOptionsError } from "./errors.js";

test("arguments: defaults, both flag forms, and errors naming the bad argument", () => {
  expect(parseArgs([])).toMatchObject({
    seeds: 10,
    from: 1,
    ops: 200,
    nodes: 5,
    policy: "siblings",
  });
  expect(
    parseArgs(["--seeds", "3", "--from=7", "--ops", "50", "--nodes=4", "--policy", "lww"]),
  ).toMatchObject({
    seeds: 3,
    from: 7,
    ops: 50,
    nodes: 4,
    policy: "lww",
  });
  expect(parseArgs(["--", "--no-sync", "--no-faults", "--verbose"])).toMatchObject({
    sync: false,
    faults: false,
    verbose: true,
  });
  for (const [argv, message] of [
    [["--seeds", "0"], "--seeds must be an integer >= 1, got 0"],
    [["--ops", "x"], "--ops must be an integer >= 1, got x"],
    [["--from"], "--from needs a value"],
    [["--policy", "first"], "--policy must be siblings or lww, got first"],
    [["--frobnicate"], "unknown argument --frobnicate"],
  ] as const) {
    let error: unknown;
    try {
      parseArgs(argv);
    } catch (e) {
      error = e;
    }
    expect(isInvalidSimulationOptionsError(error), argv.join(" ")).toBe(true);
    expect((error as Error).message).toBe(message);
  }
});

test("the CLI prints a line per seed and the figures, and exits 0 when every seed passed", async () => {
  const lines: string[] = [];
  const code = await main(["--seeds", "2", "--from", "11", "--ops", "40"], (l) => lines.push(l));
  expect(code).toBe(0);
  const text = lines.join("\n");
  expect(text).toMatch(/^seed 11: ok \| 40 ops/m);
  expect(text).toMatch(/^seed 12: ok \| 40 ops/m);
  expect(text).toContain("seeds run: 2 (0 failed)");
  expect(text).toMatch(/simulated operations: 80 \(\d+ acknowledged\)/);
  expect(text).toMatch(/faults injected: \d+/);
  expect(text).toContain("anomalies: 0");
});

test("a failing seed prints its anomalies and the command that reproduces it, and exits 1", async () => {
  const lines: string[] = [];
  const code = await main(["--seeds", "1", "--from", "4", "--ops", "120", "--policy", "lww"], (l) =>
    lines.push(l),
  );
  expect(code).toBe(1);
  const text = lines.join("\n");
  expect(text).toContain("seed 4 FAILED");
  expect(text).toMatch(/\[lost\] set set-\d: lost/);
  expect(text).toContain(
    "reproduce: pnpm simulate --seeds 1 --from 4 --ops 120 --nodes 5 --policy lww --verbose",
  );
  expect(text).toContain("seeds run: 1 (1 failed: 4)");
});

test("bad arguments print the usage and exit 2", async () => {
  const lines: string[] = [];
  expect(await main(["--nodes", "1"], (l) => lines.push(l))).toBe(2);
  expect(lines[0]).toBe("error: --nodes must be an integer >= 2, got 1");
  expect(lines.join("\n")).toContain("usage: pnpm simulate --seeds N");
});
