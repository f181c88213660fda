import { describe } from "./describe.js";
import {
  DuplicateNodeError,
  InvalidRingArgumentError,
  InvalidRingTokenError,
  UnknownNodeError,
} from "./errors.js";
import type { ResolvedRingOptions, RingOptions } from "./options.js";
import {
  DEFAULT_VIRTUAL_NODES,
  MAX_VIRTUAL_NODES,
  resolveRingOptions,
  validateVirtualNodes,
} from "./options.js";
import type { ReplicaRange } from "./ring-index.js";
import { RingIndex } from "./ring-index.js";
import type { RingNodeState, RingState } from "./ring-state.js";
import { nodeIdProblem, parseRingState, RING_STATE_VERSION } from "./ring-state.js";
import type { RingKey, Token } from "./token.js";
import { assertToken, hashKeyInto, keyHash, RING_SIZE, tokenOf } from "./token.js";
import type { TokenRange } from "./token-range.js";
import { rangeSize } from "./token-range.js";

export interface AddNodeOptions {
  /**
   * The node's tokens, given explicitly: as carried by gossip, or chosen by an operator. 1 to
   * {@link MAX_VIRTUAL_NODES} distinct bigints in [0, 2^64); order does not matter. When absent,
   * the tokens are derived from the node id (see {@link vnodeTokens}).
   */
  tokens?: readonly Token[];
  /**
   * How many tokens to derive from the id when `tokens` is absent: a weight for a node with more
   * or less capacity than the others. Not allowed together with `tokens`.
   * @default the ring's `virtualNodes`
   */
  virtualNodes?: number;
}

export interface PreferenceListOptions {
  /**
   * Leaves a node out, e.g. one that gossip reports down: the nodes after it move up, which is
   * how a sloppy quorum finds the next healthy node. Called during the lookup: keep it pure and
   * fast (a Set lookup), and do not change the ring from inside it.
   */
  skip?: (nodeId: string) => boolean;
}

interface Member {
  readonly id: string;
  /** Ascending. */
  readonly tokens: readonly Token[];
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
  /** Tokens were given to addNode rather than derived from the id. */
  readonly explicit: boolean;
  /** The per-node count given to addNode, if any. */
  readonly virtualNodes: number | undefined;
}

/**
 * The tokens derived for node `id`: the token of the UTF-8 string `${id}#${i}` for i in
 * [0, count), ascending. FORMAT: every node of a cluster must derive the same tokens for the
 * same id, so this naming scheme never changes.
 */
export function vnodeTokens(id: string, count: number = DEFAULT_VIRTUAL_NODES): Token[] {
  assertNodeId(id);
  validateVirtualNodes(count, "count");
  const out: Token[] = [];
  for (let i = 0; i < count; i++) out.push(tokenOf(`${id}#${i}`));
  return out.sort(compareTokens);
}

function compareTokens(a: Token, b: Token): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function assertNodeId(id: unknown): asserts id is string {
  const problem = nodeIdProblem(id);
  if (problem !== undefined) throw new InvalidRingArgumentError(problem);
}

function assertReplicaCount(n: unknown): asserts n is number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new InvalidRingArgumentError(
      `the replica count must be a non-negative integer, got ${describe(n)}`,
    );
  }
}

function makeMember(
  id: string,
  tokens: Token[],
  explicit: boolean,
  virtualNodes: number | undefined,
): Member {
  tokens.sort(compareTokens);
  const hi = new Uint32Array(tokens.length);
  const lo = new Uint32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    hi[i] = Number(t >> 32n);
    lo[i] = Number(t & 0xffff_ffffn);
  }
  return Object.freeze({ id, tokens: Object.freeze(tokens), hi, lo, explicit, virtualNodes });
}

/**
 * A consistent-hash ring of physical nodes, each owning several tokens (virtual nodes). A key
 * belongs to the first token clockwise from its own token; its preference list is the first n
 * distinct physical nodes from there.
 *
 * Membership changes (`addNode`, `removeNode`) are cheap: they mark the lookup structure stale
 * and the next lookup rebuilds it (O(V log V) for V vnodes), so adding many nodes in a row costs
 * one rebuild. Lookups allocate only the returned array. Not safe to mutate from inside a `skip`
 * callback; `walk` iterators keep seeing the membership they started with.
 */
export class HashRing {
  readonly options: ResolvedRingOptions;
  private readonly members: Map<string, Member>;
  private index: RingIndex | undefined;

  constructor(options?: RingOptions) {
    this.options = resolveRingOptions(options);
    this.members = new Map();
    this.index = undefined;
  }

  /** Rebuilds a ring from {@link toJSON} output, validating it fully first. */
  static fromJSON(state: unknown): HashRing {
    const parsed = parseRingState(state);
    const ring = new HashRing({ virtualNodes: parsed.virtualNodes });
    for (const node of parsed.nodes) {
      if (node.tokens !== undefined) ring.addNode(node.id, { tokens: node.tokens });
      else if (node.virtualNodes !== undefined) {
        ring.addNode(node.id, { virtualNodes: node.virtualNodes });
      } else ring.addNode(node.id);
    }
    return ring;
  }

  /**
   * JSON-safe state (tokens as decimal strings) that {@link fromJSON} turns back into an equal
   * ring. Derived tokens are not listed (the receiver derives the same ones); explicit ones are.
   * Deterministic: nodes sorted by id, tokens ascending.
   */
  toJSON(): RingState {
    const nodes: RingNodeState[] = [];
    for (const id of this.nodes()) {
      const m = this.members.get(id)!;
      const node: RingNodeState = { id };
      if (m.explicit) node.tokens = m.tokens.map((t) => t.toString(10));
      else if (m.virtualNodes !== undefined) node.virtualNodes = m.virtualNodes;
      nodes.push(node);
    }
    return { version: RING_STATE_VERSION, virtualNodes: this.options.virtualNodes, nodes };
  }

  /** An independent copy: changes to either ring do not affect the other. */
  clone(): HashRing {
    const copy = new HashRing(this.options);
    for (const [id, m] of this.members) copy.members.set(id, m);
    copy.index = this.index;
    return copy;
  }

  /** Number of physical nodes. */
  get size(): number {
    return this.members.size;
  }

  /** Number of virtual nodes (tokens) over all nodes. */
  get vnodeCount(): number {
    let total = 0;
    for (const m of this.members.values()) total += m.tokens.length;
    return total;
  }

  hasNode(id: string): boolean {
    return this.members.has(id);
  }

  /** Node ids, sorted (UTF-16 code unit order). */
  nodes(): string[] {
    return [...this.members.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** A node's tokens, ascending. Throws UnknownNodeError if it is not on the ring. */
  tokensOf(id: string): Token[] {
    const m = this.members.get(id);
    if (m === undefined) throw new UnknownNodeError(id);
    return [...m.tokens];
  }

  /** Whether the node's tokens were given explicitly (true) or derived from its id (false). */
  hasExplicitTokens(id: string): boolean {
    const m = this.members.get(id);
    if (m === undefined) throw new UnknownNodeError(id);
    return m.explicit;
  }

  /**
   * Adds a physical node with explicit `tokens` or tokens derived from its id. Throws
   * DuplicateNodeError if the id is present, InvalidRingArgumentError for a bad id,
   * InvalidRingTokenError for bad tokens, InvalidRingOptionsError for a bad count; the ring is
   * unchanged when it throws. Tokens equal to another node's are allowed (gossip must converge
   * whatever order it delivers nodes in); the node with the smaller id comes first.
   */
  addNode(id: string, options: AddNodeOptions = {}): void {
    assertNodeId(id);
    if (this.members.has(id)) throw new DuplicateNodeError(id);
    const { tokens, virtualNodes } = options;
    let member: Member;
    if (tokens !== undefined) {
      if (virtualNodes !== undefined) {
        throw new InvalidRingArgumentError("addNode takes either tokens or virtualNodes, not both");
      }
      member = makeMember(id, checkExplicitTokens(tokens), true, undefined);
    } else {
      const count =
        virtualNodes === undefined
          ? this.options.virtualNodes
          : validateVirtualNodes(virtualNodes, "virtualNodes");
      member = makeMember(id, vnodeTokens(id, count), false, virtualNodes);
    }
    this.members.set(id, member);
    this.index = undefined;
  }

  /** Removes a node. Throws UnknownNodeError if it is not on the ring. */
  removeNode(id: string): void {
    if (!this.members.delete(id)) throw new UnknownNodeError(id);
    this.index = undefined;
  }

  /** The token of a key (same as the free function {@link tokenOf}). */
  tokenOf(key: RingKey): Token {
    return tokenOf(key);
  }

  /**
   * The first `n` distinct physical nodes clockwise from the key's token: the key's replicas,
   * coordinator first. Fewer when the ring has fewer nodes (or `skip` leaves some out); empty
   * on an empty ring.
   */
  preferenceList(key: RingKey, n: number, options?: PreferenceListOptions): string[] {
    assertReplicaCount(n);
    hashKeyInto(key);
    const index = this.index ?? this.build();
    if (index.vnodeCount === 0) return [];
    return index.preferenceList(index.search(keyHash[1]!, keyHash[0]!), n, options?.skip);
  }

  /** {@link preferenceList} for a token instead of a key (e.g. the end of a range). */
  preferenceListForToken(token: Token, n: number, options?: PreferenceListOptions): string[] {
    assertReplicaCount(n);
    assertToken(token);
    const index = this.index ?? this.build();
    if (index.vnodeCount === 0) return [];
    return index.preferenceList(
      index.search(Number(token >> 32n), Number(token & 0xffff_ffffn)),
      n,
      options?.skip,
    );
  }

  /**
   * Every physical node once, in clockwise order from the key's token: the preference list
   * followed by the nodes a sloppy quorum falls back to. Lazy; stop whenever you have enough.
   */
  walk(key: RingKey): Generator<string, void, undefined> {
    hashKeyInto(key);
    // Search now: keyHash is shared scratch and the generator body would run later.
    const index = this.index ?? this.build();
    return index.walk(index.vnodeCount === 0 ? 0 : index.search(keyHash[1]!, keyHash[0]!));
  }

  /** {@link walk} from a token. */
  walkFromToken(token: Token): Generator<string, void, undefined> {
    assertToken(token);
    const index = this.index ?? this.build();
    const v =
      index.vnodeCount === 0 ? 0 : index.search(Number(token >> 32n), Number(token & 0xffff_ffffn));
    return index.walk(v);
  }

  /**
   * Every arc of the ring, in order, with its first `n` replicas: the unit for anti-entropy and
   * streaming. Arcs are (previous token, token]; the first wraps around from the largest token.
   * Empty on an empty ring; one whole-ring arc (t, t] when all tokens are equal.
   */
  replicaRanges(n: number): ReplicaRange[] {
    assertReplicaCount(n);
    return (this.index ?? this.build()).replicaRanges(n);
  }

  /**
   * The token ranges for which node `id` is among the first `n` replicas, adjacent ones merged,
   * sorted by `end` (a range wrapping past 2^64 - 1 comes first). A node that replicates the
   * whole ring (n >= number of nodes) gets one range with start === end. These are the ranges
   * a joining node streams in and a leaving node streams out.
   */
  rangesFor(id: string, n: number): TokenRange[] {
    assertReplicaCount(n);
    if (!this.members.has(id)) throw new UnknownNodeError(id);
    const index = this.index ?? this.build();
    return index.rangesFor(index.ids.indexOf(id), n);
  }

  /**
   * The fraction of the token space each node replicates as one of the first `n` replicas,
   * computed exactly from the arcs (not by sampling). Sums to min(n, size) over all nodes.
   * @param n replica count @default 1
   */
  ownership(n = 1): Map<string, number> {
    assertReplicaCount(n);
    const index = this.index ?? this.build();
    const sums = new Map<string, bigint>();
    for (const id of index.ids) sums.set(id, 0n);
    index.forEachArc((start, end, v) => {
      const size = rangeSize({ start, end });
      for (const id of index.preferenceList(v, n)) sums.set(id, sums.get(id)! + size);
    });
    const out = new Map<string, number>();
    for (const [id, sum] of sums) out.set(id, Number(sum) / Number(RING_SIZE));
    return out;
  }

  private build(): RingIndex {
    const index = new RingIndex([...this.members.values()]);
    this.index = index;
    return index;
  }
}

function checkExplicitTokens(tokens: readonly Token[]): Token[] {
  if (!Array.isArray(tokens)) {
    throw new InvalidRingTokenError(`tokens must be an array, got ${describe(tokens)}`);
  }
  if (tokens.length === 0 || tokens.length > MAX_VIRTUAL_NODES) {
    throw new InvalidRingTokenError(
      `a node needs 1 to ${MAX_VIRTUAL_NODES} tokens, got ${tokens.length}`,
    );
  }
  const seen = new Set<Token>();
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t: unknown = tokens[i];
    assertToken(t, `tokens[${i}]`);
    if (seen.has(t)) throw new InvalidRingTokenError(`tokens[${i}]: duplicate token ${t}`);
    seen.add(t);
    out.push(t);
  }
  return out;
}
