/** What the driver needs from a system under test, whatever it is. */
import type { CleanupRegistry } from "../cleanup.js";

export type TargetName = "distkv" | "etcd" | "redis";
export const TARGET_NAMES: readonly TargetName[] = ["distkv", "etcd", "redis"];

/** One client's view of the store, as the workload uses it. */
export interface KVConnection {
  /** The value, or undefined when the key does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, value: Uint8Array): Promise<void>;
  /** Reads the key, then writes `value` (with the read's causal context where there is one). False when the key did not exist. */
  readModifyWrite(key: string, value: Uint8Array): Promise<boolean>;
}

/** The software that was measured. */
export interface TargetVersion {
  /** Server version as the server or the repository reports it. */
  server: string;
  /** Client library and version. */
  client: string;
  /** Extra facts, e.g. the git commit and whether the tree was dirty. */
  details: Record<string, string>;
}

export interface RunningTarget {
  readonly name: TargetName;
  /** Name with its shape, e.g. "distkv 3 nodes N=3 R=2 W=2". */
  readonly label: string;
  readonly version: TargetVersion;
  /** The settings it runs with, for the JSON report. */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  /** The connection worker `worker` uses; workers are spread over the target's connections. */
  connection(worker: number): KVConnection;
  /** Closes clients and stops server processes; temp dirs are removed by the registry. */
  stop(): Promise<void>;
}

export interface StartContext {
  /** A temp dir for this target's data; removed by the cleanup registry. */
  dataDir: string;
  /** This target's own registry: its processes and clients, nothing of other targets. */
  cleanup: CleanupRegistry;
  signal?: AbortSignal;
  log: (line: string) => void;
}
