import { encodeSiblingSet, update } from "@distkv/vclock";
import { describe, expect, test } from "vitest";
import { rejection, text, utf8 } from "../test/helpers.js";
import { isInvalidArgumentError, isInvalidQuorumOptionsError } from "./errors.js";
import { InMemoryHintStore } from "./in-memory-hint-store.js";
import { InMemoryReplicaStore } from "./in-memory-replica-store.js";
import { Replica } from "./replica.js";

function setup() {
  const store = new InMemoryReplicaStore();
  const hintStore = new InMemoryHintStore();
  return { store, hintStore, replica: new Replica({ localId: "me", store, hintStore }) };
}
const set = (s: string, actor = "a") => update({ clock: [], siblings: [] }, [], utf8(s), actor, 5);

describe("Replica", () => {
  test("writes merge into the store, from sets or bytes; reads return the stored set", async () => {
    const { store, replica } = setup();
    await replica.write(utf8("k"), set("x", "a"));
    await replica.write(utf8("k"), encodeSiblingSet(set("y", "b")));
    const got = await replica.read(utf8("k"));
    expect(got!.siblings.map((s) => text(s.value!))).toEqual(["x", "y"]);
    expect(store.size).toBe(1);
    const bytes = await replica.readEncoded(utf8("k"));
    expect(bytes).toEqual(encodeSiblingSet(got!));
    expect(await replica.readEncoded(utf8("nothing"))).toBeUndefined();
  });

  test("a hint for another node goes to the hint store; a hint for this node is a write", async () => {
    const { store, hintStore, replica } = setup();
    await replica.write(utf8("k"), set("x"), { hintFor: "owner" });
    expect(store.size).toBe(0);
    expect(hintStore.peek("owner", utf8("k"))!.set.siblings.length).toBe(1);
    await replica.write(utf8("k"), set("x"), { hintFor: "me" });
    expect(store.size).toBe(1);
  });

  test("bad input is refused and stores nothing", async () => {
    const { store, hintStore, replica } = setup();
    for (const [key, payload, options, field] of [
      [new Uint8Array(0), set("x"), {}, "key"],
      [new Uint8Array(1025), set("x"), {}, "key"],
      [utf8("k"), Uint8Array.of(0x11, 0x01), {}, "siblings"],
      [utf8("k"), Uint8Array.of(0x99), {}, "siblings"],
      [utf8("k"), set("x"), { hintFor: "" }, "hintFor"],
    ] as const) {
      const e = await rejection(replica.write(key, payload, options));
      expect(isInvalidArgumentError(e)).toBe(true);
      expect((e as { field: string }).field).toBe(field);
    }
    expect(store.size + hintStore.size).toBe(0);
  });

  test("construction is validated", () => {
    expect(
      () =>
        new Replica({
          localId: "",
          store: new InMemoryReplicaStore(),
          hintStore: new InMemoryHintStore(),
        }),
    ).toThrow();
    try {
      new Replica({
        localId: "a",
        store: new InMemoryReplicaStore(),
        hintStore: new InMemoryHintStore(),
        options: { maxHints: -1 },
      });
    } catch (e) {
      expect(isInvalidQuorumOptionsError(e)).toBe(true);
    }
  });
});
