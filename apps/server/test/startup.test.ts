import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterHarness, run } from "./harness.js";

describe("distkv-server start-up and shutdown", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "distkv-startup-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    [["-address=127.0.0.1:0"], /--node-id is required/],
    [
      ["-node-id=n1", "-replicas=2", "-read-quorum=3"],
      /--read-quorum \(3\) cannot exceed --replicas \(2\)/,
    ],
    [["-node-id=n1", "-write-quorum=4"], /--write-quorum \(4\) cannot exceed --replicas \(3\)/],
    [["-node-id=n1", "-address=nohostport"], /--address must be host:port/],
    [["-node-id=bad id"], /--node-id must be/],
    [["-node-id=n1", "--no-such-flag=1"], /Unknown argument/],
    [["-node-id=n1", "-seed-nodes=localhost"], /--seed-nodes must be host:port/],
    [
      ["-node-id=n1", "-tombstone-grace-ms=60000", "-hint-max-age-ms=60000"],
      /--hint-max-age-ms \(60000\) must be above 0 and below --tombstone-grace-ms \(60000\)/,
    ],
    [
      ["-node-id=n1", "-hint-max-age-ms=0"],
      /--hint-max-age-ms \(0\) must be above 0 and below --tombstone-grace-ms \(86400000\)/,
    ],
  ])("refuses %j with a clear message and exit code 2", async (args, message) => {
    const r = await run([...args, `-data-dir=${join(dir, "unused")}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("refuses a data dir that is a file", async () => {
    const file = join(dir, "a-file");
    await writeFile(file, "x");
    const r = await run(["-node-id=n1", "-address=127.0.0.1:0", `-data-dir=${file}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exists and is not a directory/);
  });

  it("refuses a data dir locked by a running node, and shuts down cleanly on SIGTERM", async () => {
    const h = new ClusterHarness();
    try {
      const node = await h.start("n1", { dataDir: join(dir, "locked") });
      const r = await run(["-node-id=n2", "-address=127.0.0.1:0", `-data-dir=${node.dataDir}`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/in use by another process/);
      expect(await h.kill("n1", "SIGTERM")).toBe(0);
    } finally {
      await h.cleanup();
    }
  });

  it("accepts the double-dash form of every flag", async () => {
    const h = new ClusterHarness();
    try {
      // The harness passes single-dash flags; here the double-dash forms reach the same config.
      const r = await run(["--node-id", "n1", "--replicas", "2", "--read-quorum", "3"]);
      expect(r.stderr).toMatch(/--read-quorum \(3\) cannot exceed --replicas \(2\)/);
      const help = await run(["--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/-node-id=node1/);
    } finally {
      await h.cleanup();
    }
  });
});
