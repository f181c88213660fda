import type { Operation } from "../operation.js";

/**
 * The register model the linearizability search runs: one value per key, or absent. Values are
 * interned to small integers so a model state is a number: 0 is absent, 1.. are the values.
 */
export const ABSENT = 0;

export const WRITE = 0;
export const DELETE = 1;
export const READ = 2;

/** One operation as the search sees it. */
export interface RegisterOp {
  readonly op: Operation;
  readonly kind: typeof WRITE | typeof DELETE | typeof READ;
  /** WRITE: the interned value. Unused otherwise. */
  readonly arg: number;
  /**
   * READ: the states it may observe. `[ABSENT]` for a read that found nothing, one value for a
   * plain read, several for a sibling read under the `pick-one` policy.
   */
  readonly expect: readonly number[];
  readonly call: number;
  /** Completion time; +Infinity for `info` (it may take effect at any time after its call). */
  readonly ret: number;
}

/** The register's transition: the next state, or -1 if the operation cannot happen in `state`. */
export function step(state: number, o: RegisterOp): number {
  if (o.kind === WRITE) return o.arg;
  if (o.kind === DELETE) return ABSENT;
  const e = o.expect;
  if (e.length === 1) return e[0] === state ? state : -1;
  return e.includes(state) ? state : -1;
}

/** Interns a key's values; id 0 is reserved for absent. */
export class ValueTable {
  readonly #ids = new Map<string, number>();
  readonly #values: string[] = [""];

  id(value: string): number {
    let id = this.#ids.get(value);
    if (id === undefined) {
      id = this.#values.length;
      this.#ids.set(value, id);
      this.#values.push(value);
    }
    return id;
  }

  has(value: string): boolean {
    return this.#ids.has(value);
  }

  /** The value of a state; null for absent. */
  value(state: number): string | null {
    return state === ABSENT ? null : (this.#values[state] ?? null);
  }
}
