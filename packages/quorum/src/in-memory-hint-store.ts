import { type SiblingSet, sync } from "@distkv/vclock";
import type { Hint, HintPutResult, HintStore } from "./hint-store.js";
import { keyId } from "./key.js";

/**
 * A HintStore in Maps, for tests and simulation. NOT durable: hints are lost with the process,
 * so a server must back HintedHandoff with a durable store (its LSM engine).
 */
export class InMemoryHintStore implements HintStore {
  private readonly byTarget = new Map<string, Map<string, Hint>>();
  private count = 0;
  private nextVersion = 1;

  get size(): number {
    return this.count;
  }

  async put(
    targetNodeId: string,
    key: Uint8Array,
    set: SiblingSet<Uint8Array>,
    maxHints: number,
    nowMs: number,
  ): Promise<HintPutResult> {
    const id = keyId(key);
    let hints = this.byTarget.get(targetNodeId);
    const existing = hints?.get(id);
    if (existing === undefined && this.count >= maxHints) return "full";
    if (hints === undefined) {
      hints = new Map();
      this.byTarget.set(targetNodeId, hints);
    }
    hints.set(id, {
      targetNodeId,
      key: existing?.key ?? key.slice(),
      set: existing === undefined ? set : sync(existing.set, set),
      version: this.nextVersion++,
      createdMs: existing?.createdMs ?? nowMs,
    });
    if (existing !== undefined) return "merged";
    this.count++;
    return "created";
  }

  async targets(): Promise<string[]> {
    return [...this.byTarget.keys()];
  }

  async list(targetNodeId: string, limit: number): Promise<Hint[]> {
    const hints = this.byTarget.get(targetNodeId);
    if (hints === undefined) return [];
    const out: Hint[] = [];
    for (const hint of hints.values()) {
      if (out.length >= limit) break;
      out.push(hint);
    }
    return out;
  }

  async delete(targetNodeId: string, key: Uint8Array, version: number): Promise<boolean> {
    const hints = this.byTarget.get(targetNodeId);
    const id = keyId(key);
    const hint = hints?.get(id);
    if (hints === undefined || hint === undefined || hint.version !== version) return false;
    hints.delete(id);
    if (hints.size === 0) this.byTarget.delete(targetNodeId);
    this.count--;
    return true;
  }

  async expire(cutoffMs: number): Promise<number> {
    let n = 0;
    for (const [target, hints] of this.byTarget) {
      for (const [id, hint] of hints) {
        if (hint.createdMs >= cutoffMs) continue;
        hints.delete(id);
        n++;
      }
      if (hints.size === 0) this.byTarget.delete(target);
    }
    this.count -= n;
    return n;
  }

  /** Every hint, for tests. */
  all(): Hint[] {
    const out: Hint[] = [];
    for (const hints of this.byTarget.values()) out.push(...hints.values());
    return out;
  }

  /** Hint for (target, key), for tests. */
  peek(targetNodeId: string, key: Uint8Array): Hint | undefined {
    return this.byTarget.get(targetNodeId)?.get(keyId(key));
  }
}
