/** What the manifest knows about one table file. Immutable once created. */
export interface FileMeta {
  readonly number: number;
  readonly size: number;
  /** Smallest and largest internal keys in the file. */
  readonly smallest: Uint8Array;
  readonly largest: Uint8Array;
}
