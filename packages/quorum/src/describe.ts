/** A short, safe rendering of an arbitrary value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  }
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || typeof value !== "object") return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Uint8Array) return `${value.constructor.name}(${value.byteLength})`;
  return `an object (${value.constructor?.name ?? "null prototype"})`;
}
