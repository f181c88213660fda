/**
 * Crash test: a child process writes with sync: true and prints each acknowledged key; we
 * SIGKILL it at a random moment, reopen the database here and check that every acknowledged
 * write is present with its exact value and that nothing in the database is corrupt.
 *
 * LSM_CRASH_ROUNDS (default 20) sets the rounds of the default variant; the small-memtable
 * variant (flushes and compactions in flight when the kill lands) runs half as many.
 * LSM_CRASH_SEED replays a run's kill delays.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { open } from "../../src/db.js";
import { bytesEqual } from "../../src/util/compare-bytes.js";
import { expectedValue, keyFor, parseKey } from "./crash-model.js";

const CHILD = fileURLToPath(new URL("./crash-child.ts", import.meta.url));
const PKG_DIR = fileURLToPath(new URL("../..", import.meta.url));
const ROUNDS = Number(process.env.LSM_CRASH_ROUNDS ?? 20);
const SEED = Number(process.env.LSM_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RoundResult {
  acked: number[];
  sawOpen: boolean;
  stderr: string;
}

/** Runs one child until `killAfterMs` after it opened the database, then SIGKILLs it. */
function runChild(
  dir: string,
  variant: string,
  round: number,
  killAfterMs: number,
): Promise<RoundResult> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      ["--import", "tsx", CHILD, dir, variant, String(round), "4"],
      { cwd: PKG_DIR, stdio: ["ignore", "pipe", "pipe"] },
    );
    const acked: number[] = [];
    let sawOpen = false;
    let buf = "";
    let stderr = "";
    let timer: NodeJS.Timeout | undefined;
    const hardStop = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith("ack ")) {
          const [, r, i] = line.split(" ");
          if (Number(r) !== round) reject(new Error(`ack for round ${r} in round ${round}`));
          acked.push(Number(i));
        } else if (line.startsWith("open ")) {
          sawOpen = true;
          timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
        }
        nl = buf.indexOf("\n");
      }
    });
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("exit", () => {
      clearTimeout(hardStop);
      if (timer) clearTimeout(timer);
      // A partial last line is not counted: the parent never saw that acknowledgement.
      resolve({ acked, sawOpen, stderr });
    });
  });
}

async function verify(
  dir: string,
  acked: Map<number, number[]>,
  big: boolean,
): Promise<{ entries: number; levelsWithFiles: number; tableFiles: number }> {
  const db = await open(dir);
  try {
    for (const [round, is] of acked) {
      for (const i of is) {
        const v = await db.get(keyFor(round, i));
        if (v === undefined) throw new Error(`acknowledged write r${round} i${i} is missing`);
        if (!bytesEqual(v, expectedValue(round, i, big))) {
          throw new Error(`acknowledged write r${round} i${i} has a wrong value`);
        }
      }
    }
    // Everything present (acknowledged or not) must be intact.
    let entries = 0;
    for await (const [k, v] of db.iterator()) {
      const id = parseKey(k);
      if (id === undefined) throw new Error(`unknown key ${Buffer.from(k).toString("hex")}`);
      if (!bytesEqual(v, expectedValue(id.round, id.i, big))) {
        throw new Error(`r${id.round} i${id.i} has a corrupt value`);
      }
      entries++;
    }
    const s = db.stats();
    return {
      entries,
      levelsWithFiles: s.levels.filter((l) => l.files > 0).length,
      tableFiles: s.levels.reduce((a, l) => a + l.files, 0),
    };
  } finally {
    await db.close();
  }
}

describe("crash recovery (SIGKILL during sync writes)", () => {
  for (const variant of ["default", "small-memtable"] as const) {
    const rounds = variant === "default" ? ROUNDS : Math.max(1, Math.ceil(ROUNDS / 2));
    it(`${variant}: every acknowledged write survives ${rounds} kills (seed ${SEED})`, async () => {
      const dir = await fsp.mkdtemp(path.join(os.tmpdir(), `lsm-crash-${variant}-`));
      const big = variant === "small-memtable";
      const random = rng(SEED + (big ? 1 : 0));
      const acked = new Map<number, number[]>();
      let totalAcked = 0;
      let maxLevels = 0;
      let maxTables = 0;
      try {
        for (let round = 0; round < rounds; round++) {
          const killAfter = Math.floor(random() * 300);
          const res = await runChild(dir, variant, round, killAfter);
          if (!res.sawOpen) throw new Error(`child of round ${round} never opened: ${res.stderr}`);
          acked.set(round, res.acked);
          totalAcked += res.acked.length;
          const v = await verify(dir, acked, big);
          expect(v.entries).toBeGreaterThanOrEqual(totalAcked);
          maxLevels = Math.max(maxLevels, v.levelsWithFiles);
          maxTables = Math.max(maxTables, v.tableFiles);
        }
      } catch (e) {
        throw new Error(`seed ${SEED} (LSM_CRASH_SEED=${SEED} replays the kill delays): ${e}`, {
          cause: e,
        });
      } finally {
        await fsp.rm(dir, { recursive: true, force: true });
      }
      // The test must have had something to lose.
      expect(totalAcked).toBeGreaterThan(rounds * 5);
      if (big) {
        // Flushes and compactions really ran in the children.
        expect(maxTables).toBeGreaterThan(1);
        expect(maxLevels).toBeGreaterThan(1);
      }
      console.log(
        `${variant}: ${rounds} kills, ${totalAcked} acknowledged writes all recovered; up to ${maxTables} tables over ${maxLevels} levels`,
      );
    }, 240_000);
  }
});
