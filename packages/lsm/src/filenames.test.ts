import { describe, expect, it } from "vitest";
import { prefixSuccessor } from "./db-iterator.js";
import {
  FileType,
  logFileName,
  manifestFileName,
  parseFileName,
  tableFileName,
} from "./filenames.js";

describe("file names", () => {
  it("round-trips numbered files and classifies the rest", () => {
    expect(parseFileName(logFileName(12))).toEqual({ type: FileType.Log, number: 12 });
    expect(parseFileName(tableFileName(1234567))).toEqual({
      type: FileType.Table,
      number: 1234567,
    });
    expect(parseFileName(manifestFileName(5))).toEqual({ type: FileType.Manifest, number: 5 });
    expect(tableFileName(7)).toBe("000007.sst");
    expect(parseFileName("CURRENT")?.type).toBe(FileType.Current);
    expect(parseFileName("LOCK")?.type).toBe(FileType.Lock);
    expect(parseFileName("CURRENT.tmp")?.type).toBe(FileType.Temp);
    expect(parseFileName("000009.dbtmp")?.type).toBe(FileType.Temp);
    expect(parseFileName("notes.txt")).toBeUndefined();
    expect(parseFileName("12.sstx")).toBeUndefined();
  });
});

describe("prefixSuccessor", () => {
  it("is the smallest key above every key with the prefix", () => {
    expect([...prefixSuccessor(Uint8Array.of(1, 2))!]).toEqual([1, 3]);
    expect([...prefixSuccessor(Uint8Array.of(1, 0xff))!]).toEqual([2]);
    expect(prefixSuccessor(Uint8Array.of(0xff, 0xff))).toBeUndefined();
    const p = Buffer.from([7, 0xff]);
    prefixSuccessor(p);
    expect([...p]).toEqual([7, 0xff]); // the caller's prefix is not modified
  });
});
