/**
 * The workloads (YCSB's core workloads A, B, C, D, F plus pure put and pure get) and the
 * operation generator. The generator is deterministic for a seed: operation kinds come from one
 * random stream and keys from another, so every target sees the same sequence of kinds (and,
 * apart from workload D's "latest" reads, which follow acknowledged inserts, the same keys).
 */
import {
  AcknowledgedCounter,
  type KeyChooser,
  ScrambledZipfianChooser,
  SkewedLatestChooser,
  UniformChooser,
} from "./generators.js";
import { Random } from "./random.js";

/** read: get a key; update: put an existing key; insert: put a new key; rmw: get then put. */
export type OperationKind = "read" | "update" | "insert" | "rmw";
export const OPERATION_KINDS: readonly OperationKind[] = ["read", "update", "insert", "rmw"];

export type WorkloadName = "a" | "b" | "c" | "d" | "f" | "put" | "get";
export const WORKLOAD_NAMES: readonly WorkloadName[] = ["a", "b", "c", "d", "f", "put", "get"];

export type KeyDistribution = "zipfian" | "uniform";

export interface WorkloadDefinition {
  readonly name: WorkloadName;
  readonly description: string;
  /** Share of each operation kind; the shares add up to 1. */
  readonly proportions: Readonly<Record<OperationKind, number>>;
  /** Workload D reads the latest inserts whatever the configured distribution. */
  readonly readsLatest: boolean;
}

const none = { read: 0, update: 0, insert: 0, rmw: 0 };

export const WORKLOADS: Readonly<Record<WorkloadName, WorkloadDefinition>> = {
  a: {
    name: "a",
    description: "YCSB A: update heavy, 50% read / 50% update",
    proportions: { ...none, read: 0.5, update: 0.5 },
    readsLatest: false,
  },
  b: {
    name: "b",
    description: "YCSB B: read mostly, 95% read / 5% update",
    proportions: { ...none, read: 0.95, update: 0.05 },
    readsLatest: false,
  },
  c: {
    name: "c",
    description: "YCSB C: read only",
    proportions: { ...none, read: 1 },
    readsLatest: false,
  },
  d: {
    name: "d",
    description: "YCSB D: read latest, 95% read / 5% insert",
    proportions: { ...none, read: 0.95, insert: 0.05 },
    readsLatest: true,
  },
  f: {
    name: "f",
    description: "YCSB F: 50% read / 50% read-modify-write",
    proportions: { ...none, read: 0.5, rmw: 0.5 },
    readsLatest: false,
  },
  put: {
    name: "put",
    description: "pure put: 100% update",
    proportions: { ...none, update: 1 },
    readsLatest: false,
  },
  get: {
    name: "get",
    description: "pure get: 100% read",
    proportions: { ...none, read: 1 },
    readsLatest: false,
  },
};

export function parseWorkloadName(text: string): WorkloadName | undefined {
  const lower = text.trim().toLowerCase();
  return (WORKLOAD_NAMES as readonly string[]).includes(lower)
    ? (lower as WorkloadName)
    : undefined;
}

/** Key of item `n`: `user` + the number, as YCSB names records. */
export function keyName(n: number): string {
  return `user${n}`;
}

export interface Operation {
  kind: OperationKind;
  /** Item number; the key is keyName(item). */
  item: number;
  /** Index into the value pool for writes. */
  value: number;
}

export interface WorkloadGeneratorOptions {
  workload: WorkloadName;
  distribution: KeyDistribution;
  /** Keys loaded before the run: items 0..keyCount-1. */
  keyCount: number;
  seed: number;
  /** Number of distinct values writes pick from. @default 256 */
  valuePoolSize?: number;
}

/** Makes operations one at a time; cheap enough to sit in the request loop. */
export class WorkloadGenerator {
  readonly definition: WorkloadDefinition;
  private readonly kindRandom: Random;
  private readonly keyRandom: Random;
  private readonly chooser: KeyChooser;
  private readonly inserts: AcknowledgedCounter;
  private readonly cumulative: { kind: OperationKind; upTo: number }[];
  private readonly valuePoolSize: number;

  constructor(options: WorkloadGeneratorOptions) {
    this.definition = WORKLOADS[options.workload];
    // Separate streams: the kind sequence stays identical across targets even where the key
    // choice depends on timing (acknowledged inserts).
    this.kindRandom = new Random(options.seed);
    this.keyRandom = new Random(options.seed ^ 0x5bd1e995);
    this.valuePoolSize = options.valuePoolSize ?? 256;
    this.inserts = new AcknowledgedCounter(options.keyCount);
    if (this.definition.readsLatest) {
      this.chooser = new SkewedLatestChooser(this.keyRandom, () => this.inserts.lastValue());
    } else if (options.distribution === "zipfian") {
      this.chooser = new ScrambledZipfianChooser(this.keyRandom, options.keyCount);
    } else {
      this.chooser = new UniformChooser(this.keyRandom, options.keyCount);
    }
    let acc = 0;
    this.cumulative = [];
    for (const kind of ["read", "update", "insert", "rmw"] as const) {
      const p = this.definition.proportions[kind];
      if (p > 0) {
        acc += p;
        this.cumulative.push({ kind, upTo: acc });
      }
    }
  }

  next(): Operation {
    const u = this.kindRandom.nextDouble();
    let kind = this.cumulative[this.cumulative.length - 1]!.kind;
    for (const c of this.cumulative) {
      if (u < c.upTo) {
        kind = c.kind;
        break;
      }
    }
    const item = kind === "insert" ? this.inserts.take() : this.chooser.next();
    return { kind, item, value: this.keyRandom.nextInt(this.valuePoolSize) };
  }

  /** Call when an insert succeeded: "latest" reads may then pick its key. */
  acknowledgeInsert(item: number): void {
    this.inserts.acknowledge(item);
  }
}

/** `size` distinct random values of `valueBytes` each, the same for a given seed. */
export function makeValuePool(size: number, valueBytes: number, seed: number): Buffer[] {
  const random = new Random(seed ^ 0x27d4eb2f);
  return Array.from({ length: size }, () => random.fill(Buffer.allocUnsafe(valueBytes)) as Buffer);
}
