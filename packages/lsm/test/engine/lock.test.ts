/**
 * One open handle per directory: a second open, from this process or another, fails with
 * LockedError naming the lock file (and the holder's pid on the real filesystem); the lock is
 * released by close() and taken over when its holder died.
 */

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isLockedError, type LockedError, MemoryFileSystem, open } from "../../src/index.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe("directory lock", () => {
  it("a second open in the same process fails with LockedError until the first closes", async () => {
    const fs = new MemoryFileSystem();
    const db = await open("/db", { fs });
    const err = await open("/db", { fs }).catch((e: unknown) => e);
    expect(isLockedError(err)).toBe(true);
    expect((err as LockedError).lockFile).toContain("LOCK");
    await db.close();
    const again = await open("/db", { fs });
    await again.close();
  });

  it("another process holding the database makes open fail with LockedError naming its pid", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lsm-lock-"));
    dirs.push(dir);
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(import.meta.dirname, "lock-child.ts"), dir],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (d: Buffer) => {
          if (d.toString().includes("ready")) resolve();
        });
        child.on("exit", (code) => reject(new Error(`child exited early (${code})`)));
      });
      const err = await open(dir).catch((e: unknown) => e);
      expect(isLockedError(err)).toBe(true);
      expect((err as LockedError).holderPid).toBe(child.pid);
      expect((err as Error).message).toContain(String(child.pid));
    } finally {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    }
    // The holder is dead: its stale lock is taken over, and its synced write is there.
    const db = await open(dir);
    expect(await db.get(new Uint8Array([1]))).toEqual(Buffer.from([2]));
    await db.close();
  }, 30_000);
});
