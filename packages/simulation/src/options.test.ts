import { expect, test } from "vitest";
import { isInvalidSimulationOptionsError } from "./errors.js";
import { PROFILE_RANGES, resolveSimulationOptions } from "./options.js";

test("a seed draws its profile within the ranges, the same every time", () => {
  const seen = new Set<string>();
  for (let seed = 0; seed < 200; seed++) {
    const o = resolveSimulationOptions({ seed });
    expect(resolveSimulationOptions({ seed })).toEqual(o);
    expect(o.clients).toBeGreaterThanOrEqual(PROFILE_RANGES.clients[0]);
    expect(o.clients).toBeLessThanOrEqual(PROFILE_RANGES.clients[1]);
    expect(o.setKeys).toBeGreaterThanOrEqual(1);
    expect(o.registerKeys).toBeLessThanOrEqual(3);
    expect(PROFILE_RANGES.thinkMs).toContain(o.thinkMs);
    expect(PROFILE_RANGES.maxHints).toContain(o.maxHints);
    expect(PROFILE_RANGES.readAllShare).toContain(o.readAllShare);
    seen.add(`${o.clients}/${o.thinkMs}/${o.sloppyQuorum}`);
  }
  expect(seen.size).toBeGreaterThan(50); // the seeds really differ
  const o = resolveSimulationOptions({ seed: 1 });
  expect(o).toMatchObject({ nodes: 5, replicas: 3, operations: 200, timeoutMs: 1000 });
  expect(o).toMatchObject({
    conflictPolicy: "siblings",
    syncWrites: true,
    faults: true,
    maxDown: 2,
  });
});

test("an option given explicitly replaces its draw without shifting the others", () => {
  const drawn = resolveSimulationOptions({ seed: 9 });
  const fixed = resolveSimulationOptions({ seed: 9, clients: 1, thinkMs: 0 });
  expect(fixed.clients).toBe(1);
  expect(fixed.thinkMs).toBe(0);
  expect({ ...fixed, clients: drawn.clients, thinkMs: drawn.thinkMs }).toEqual(drawn);
});

test("bad options are refused with a message naming the option", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{}, "seed must be an integer in [0, 9007199254740991], got undefined"],
    [{ seed: 1.5 }, "seed must be an integer"],
    [{ seed: 1, nodes: 1 }, "nodes must be an integer in [2, 64], got 1"],
    [{ seed: 1, nodes: 3, replicas: 4 }, "replicas must be an integer in [1, 3], got 4"],
    [{ seed: 1, setKeys: 0, registerKeys: 0 }, "setKeys and registerKeys cannot both be 0"],
    [{ seed: 1, conflictPolicy: "first" }, 'conflictPolicy must be "siblings" or "lww", got first'],
    [{ seed: 1, syncWrites: "yes" }, "syncWrites must be a boolean, got yes"],
    [{ seed: 1, log: 5 }, "log must be a function"],
    [{ seed: 1, readAllShare: 2 }, "readAllShare must be a number in [0, 1], got 2"],
  ];
  for (const [options, message] of cases) {
    let error: unknown;
    try {
      resolveSimulationOptions(options as never);
    } catch (e) {
      error = e;
    }
    expect(isInvalidSimulationOptionsError(error), JSON.stringify(options)).toBe(true);
    expect((error as Error).message).toContain(message);
  }
});
