import { InvalidHistoryError } from "./errors.js";
import type { History, Operation } from "./operation.js";
import { validateOperation } from "./operation.js";

/**
 * JSON Lines, one operation per line, fields in a fixed order so equal histories serialise to
 * equal text (diffable, and a saved failing run can be re-checked byte for byte). An operation
 * that never completed has `"completeMs": null`: JSON has no Infinity.
 */
export function operationToJSON(op: Operation): string {
  const o: Record<string, unknown> = {
    id: op.id,
    process: op.process,
    key: op.key,
    type: op.type,
  };
  if (op.value !== undefined) o.value = op.value;
  if (op.context !== undefined) o.context = op.context;
  o.invokeMs = op.invokeMs;
  o.completeMs = op.completeMs;
  o.outcome = op.outcome;
  if (op.values !== undefined) o.values = op.values;
  if (op.coordinator !== undefined) o.coordinator = op.coordinator;
  if (op.deadlineMs !== undefined) o.deadlineMs = op.deadlineMs;
  if (op.error !== undefined) o.error = op.error;
  return JSON.stringify(o);
}

/** The whole history as JSON Lines (each line ends with `\n`; empty history: empty string). */
export function toJSONL(history: History): string {
  let out = "";
  for (const op of history) out += `${operationToJSON(op)}\n`;
  return out;
}

/**
 * Parses JSON Lines written by {@link toJSONL} (or by a recorder's `onComplete` hook appending
 * {@link operationToJSON} lines). Blank lines are skipped, `\r\n` is accepted. Every operation is
 * validated; errors name the line (1-based): `InvalidHistoryError` with `path` `line 7` or
 * `line 7.completeMs`.
 */
export function parseJSONL(text: string): Operation[] {
  if (typeof text !== "string") {
    throw new InvalidHistoryError("input", "expected a string of JSON lines");
  }
  const ops: Operation[] = [];
  const ids = new Set<number>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.length === 0) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (e) {
      throw new InvalidHistoryError(`line ${i + 1}`, "not valid JSON", { cause: e });
    }
    const op = validateOperation(parsed, `line ${i + 1}`);
    if (ids.has(op.id)) throw new InvalidHistoryError(`line ${i + 1}.id`, `duplicate id ${op.id}`);
    ids.add(op.id);
    ops.push(op);
  }
  return ops;
}
