import { open as openFile, readFile, rename } from "node:fs/promises";
import { join } from "node:path";

/**
 * What a node remembers about its place in the cluster, in `<data dir>/CLUSTER_STATE` (JSON):
 * its phase (so a restart neither re-joins a node that is already in the ring nor forgets a
 * hand-over in progress) and the resume points of that hand-over.
 */
export interface NodeState {
  readonly version: 1;
  readonly phase: "joining" | "normal" | "leaving" | "left";
  /**
   * Hand-over progress: per source node (join) the last key streamed, or for a leave the
   * last local key handed over under the id "self"; hex, "" for none yet, "done" when finished.
   */
  readonly cursors: Readonly<Record<string, string>>;
}

const FILE = "CLUSTER_STATE";

export class NodeStateError extends Error {
  override readonly name = "NodeStateError";
}

/** The stored state, or undefined for a data dir that never joined a cluster. */
export async function readNodeState(dataDir: string): Promise<NodeState | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, FILE), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new NodeStateError(`${join(dataDir, FILE)} is not valid JSON: ${(e as Error).message}`);
  }
  const s = parsed as Partial<NodeState> | null;
  if (
    s === null ||
    typeof s !== "object" ||
    s.version !== 1 ||
    !["joining", "normal", "leaving", "left"].includes(s.phase as string) ||
    typeof s.cursors !== "object" ||
    s.cursors === null
  ) {
    throw new NodeStateError(`${join(dataDir, FILE)} has an unknown format`);
  }
  return s as NodeState;
}

/** Replaces the stored state atomically and durably (write, fsync, rename, fsync the dir). */
export async function writeNodeState(dataDir: string, state: NodeState): Promise<void> {
  const path = join(dataDir, FILE);
  const tmp = `${path}.tmp`;
  const file = await openFile(tmp, "w");
  try {
    await file.writeFile(`${JSON.stringify(state)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const dir = await openFile(dataDir, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
