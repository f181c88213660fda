import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { update } from "@distkv/vclock";
import { afterEach, describe, expect, it } from "vitest";
import { NodeStorage } from "./storage.js";

const enc = new TextEncoder();
const dirs: string[] = [];

async function openStorage(dir?: string): Promise<NodeStorage> {
  if (dir === undefined) {
    dir = await mkdtemp(join(tmpdir(), "distkv-storage-"));
    dirs.push(dir);
  }
  return NodeStorage.open({ dataDir: dir, syncWrites: false, conflictPolicy: "siblings" });
}

const version = (value: string, counterBase = 0) =>
  update({ clock: [], siblings: [] }, [], enc.encode(value), "n1", 1000, counterBase);

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe("NodeStorage", () => {
  it("merges, reports new keys, scans pages in key order and purges only an unchanged copy", async () => {
    const s = await openStorage();
    expect(await s.mergeStreamed(enc.encode("b"), version("1"))).toBe(true);
    expect(await s.mergeStreamed(enc.encode("b"), version("1"))).toBe(false);
    await s.merge(enc.encode("a"), version("2"));
    await s.merge(enc.encode("c"), version("3"));
    const first = await s.scanData(undefined, { maxBytes: 1 << 20, maxScanned: 2 }, () => true);
    expect(first.entries.map((e) => new TextDecoder().decode(e.key))).toEqual(["a", "b"]);
    expect(first.done).toBe(false);
    const rest = await s.scanData(first.lastKey, { maxBytes: 1 << 20, maxScanned: 10 }, () => true);
    expect(rest.entries.map((e) => new TextDecoder().decode(e.key))).toEqual(["c"]);
    expect(rest.done).toBe(true);
    const stored = (await s.readEncoded(enc.encode("c")))!;
    expect(await s.purgeIfUnchanged(enc.encode("c"), Uint8Array.of(1, 2, 3))).toBe(false);
    expect(await s.purgeIfUnchanged(enc.encode("c"), stored)).toBe(true);
    expect(await s.read(enc.encode("c"))).toBeUndefined();
    await s.close();
  });

  it("keeps a hint's first creation time across merges and restarts, and expires by it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "distkv-storage-"));
    dirs.push(dir);
    let s = await openStorage(dir);
    expect(await s.put("n2", enc.encode("k"), version("a"), 10, 1_000)).toBe("created");
    expect(await s.put("n2", enc.encode("k"), version("b", 5), 10, 9_000)).toBe("merged");
    expect(await s.put("n3", enc.encode("j"), version("c"), 10, 5_000)).toBe("created");
    await s.close();
    s = await openStorage(dir);
    expect(s.size).toBe(2);
    const [hint] = await s.list("n2", 10);
    expect(hint!.createdMs).toBe(1_000);
    expect(hint!.set.siblings.map((x) => new TextDecoder().decode(x.value!))).toEqual(["b"]);
    expect(await s.expire(1_000)).toBe(0); // strictly older only
    expect(await s.expire(5_000)).toBe(1);
    expect(await s.list("n2", 10)).toEqual([]);
    expect((await s.targets()).sort()).toEqual(["n3"]);
    expect(s.size).toBe(1);
    await s.close();
  });

  it("fails every call after a failed write (fail-stop) instead of serving what it may lose", async () => {
    const s = await openStorage();
    await s.merge(enc.encode("k"), version("v"));
    // The engine's next write fails, as a failed fsync does.
    const put = s.db.put.bind(s.db);
    s.db.put = () => Promise.reject(new Error("EIO: simulated write failure"));
    await expect(s.merge(enc.encode("k"), version("w", 5))).rejects.toThrow(/EIO/);
    s.db.put = put;
    expect(s.failure).toBeDefined();
    await expect(s.read(enc.encode("k"))).rejects.toThrow(/storage failed after a write error/);
    await expect(s.readEncoded(enc.encode("k"))).rejects.toThrow(/restart the node/);
    await expect(s.merge(enc.encode("k"), version("x", 9))).rejects.toThrow(/restart the node/);
    await s.close();
  });
});
