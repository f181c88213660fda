/** Short, safe rendering of an untrusted value for error messages (never dumps whole objects). */
export function describe(value: unknown): string {
  if (typeof value === "string") {
    return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}...` : JSON.stringify(value);
  }
  if (typeof value === "number" || typeof value === "boolean" || value == null) {
    return String(value);
  }
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}
