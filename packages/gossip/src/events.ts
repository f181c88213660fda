import type { GossipLogger } from "./logger.js";
import type { Member } from "./member.js";

/**
 * - `join`: a member became alive that was unknown, dead or left (a restart after a death is a
 *   join again). Also emitted for the local node by `start()`.
 * - `update`: a live member changed address, phase or metadata, or was cleared of suspicion
 *   (then `previous.status` is "suspect"). Incarnation-only changes emit nothing.
 * - `suspect`: a live member is suspected (it may still refute).
 * - `dead`: a member was declared dead.
 * - `leave`: a member announced a graceful leave (also for the local node, by `leave()`).
 * - `remove`: a dead or left member was forgotten after `deadRetentionMs`.
 */
export type MemberEventType = "join" | "update" | "suspect" | "dead" | "leave" | "remove";

export interface MemberEvent {
  readonly type: MemberEventType;
  /** The member after the change. */
  readonly member: Member;
  /** The member before the change; undefined when it was unknown. */
  readonly previous: Member | undefined;
}

export type MemberListener = (event: MemberEvent) => void;

/**
 * Typed listeners. Events are delivered synchronously after the change is applied, in the order
 * the changes happened, even when a listener's own call to gossip causes further changes (they
 * are queued behind the current event). Listeners must not block; one that throws is logged and
 * does not stop the others.
 */
export class MemberEvents {
  private readonly all = new Set<MemberListener>();
  private readonly byType = new Map<MemberEventType, Set<MemberListener>>();
  private readonly queue: MemberEvent[] = [];
  private flushing = false;

  constructor(private readonly logger: GossipLogger) {}

  on(type: MemberEventType, listener: MemberListener): () => void {
    let set = this.byType.get(type);
    if (set === undefined) {
      set = new Set();
      this.byType.set(type, set);
    }
    const listeners = set;
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  subscribe(listener: MemberListener): () => void {
    this.all.add(listener);
    return () => {
      this.all.delete(listener);
    };
  }

  emit(event: MemberEvent): void {
    this.queue.push(event);
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (let e = this.queue.shift(); e !== undefined; e = this.queue.shift()) {
        for (const l of this.byType.get(e.type) ?? []) this.call(l, e);
        for (const l of this.all) this.call(l, e);
      }
    } finally {
      this.flushing = false;
    }
  }

  private call(listener: MemberListener, event: MemberEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.logger.warn("gossip: member event listener threw", {
        event: event.type,
        member: event.member.id,
        error,
      });
    }
  }
}
