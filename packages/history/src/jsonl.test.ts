import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateHistory } from "../test/generate.js";
import type { Operation } from "./index.js";
import {
  isInvalidHistoryError,
  operationToJSON,
  parseJSONL,
  toJSONL,
  validateHistory,
} from "./index.js";

const op: Operation = {
  id: 0,
  process: "c1",
  key: "k",
  type: "write",
  value: "a",
  context: [],
  invokeMs: 1.5,
  completeMs: null,
  outcome: "info",
  coordinator: "n1",
  deadlineMs: 100,
  error: "timeout",
};

function parseError(text: string): { path: string; message: string } {
  try {
    parseJSONL(text);
  } catch (e) {
    expect(isInvalidHistoryError(e)).toBe(true);
    return e as { path: string; message: string };
  }
  throw new Error("no error");
}

describe("JSONL", () => {
  it("writes one operation per line with a fixed field order", () => {
    expect(operationToJSON(op)).toBe(
      '{"id":0,"process":"c1","key":"k","type":"write","value":"a","context":[],"invokeMs":1.5,' +
        '"completeMs":null,"outcome":"info","coordinator":"n1","deadlineMs":100,"error":"timeout"}',
    );
    expect(toJSONL([])).toBe("");
    expect(toJSONL([op, { ...op, id: 1 }]).split("\n")).toHaveLength(3);
  });

  it("round-trips generated histories exactly", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e9 }),
        fc.constantFrom("register", "causal"),
        (seed, model) => {
          const h = generateHistory({
            seed,
            clients: 3,
            opsPerClient: 10,
            keys: 2,
            model: model as "register" | "causal",
            infoRatio: 0.2,
          });
          const text = toJSONL(h);
          const back = parseJSONL(text);
          expect(back).toEqual(validateHistory(h));
          expect(toJSONL(back)).toBe(text);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("accepts blank lines and CRLF", () => {
    const text = `\n${operationToJSON(op)}\r\n\r\n${operationToJSON({ ...op, id: 1 })}`;
    expect(parseJSONL(text).map((o) => o.id)).toEqual([0, 1]);
  });

  it("names the line of every error", () => {
    const good = operationToJSON(op);
    expect(parseError(`${good}\n{oops`).path).toBe("line 2");
    expect(parseError(`${good}\n${good}`).path).toBe("line 2.id");
    expect(
      parseError(
        `${good}\n\n${good.replace('"id":0', '"id":1').replace('"invokeMs":1.5', '"invokeMs":"x"')}`,
      ).path,
    ).toBe("line 3.invokeMs");
    expect(parseError(`${good.replace('"error"', '"err"')}`).path).toBe("line 1.err");
    expect(
      parseError(
        '{"id":0,"process":"p","key":"k","type":"read","invokeMs":2,"completeMs":1,"outcome":"ok","values":[]}',
      ).message,
    ).toContain("before invocation");
    expect(
      parseError(
        '{"id":0,"process":"p","key":"k","type":"read","invokeMs":1,"completeMs":null,"outcome":"ok","values":[]}',
      ).path,
    ).toBe("line 1.completeMs");
    expect(
      parseError(
        '{"id":0,"process":"p","key":"k","type":"read","invokeMs":1,"completeMs":2,"outcome":"ok"}',
      ).path,
    ).toBe("line 1.values");
    expect(
      parseError(
        '{"id":0,"process":"p","key":"k","type":"read","invokeMs":1,"completeMs":2,"outcome":"ok","values":[1]}',
      ).path,
    ).toBe("line 1.values[0]");
    expect(parseError("[1]").path).toBe("line 1");
  });
});
