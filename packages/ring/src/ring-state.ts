import { describe } from "./describe.js";
import { InvalidRingStateError } from "./errors.js";
import { MAX_VIRTUAL_NODES } from "./options.js";
import type { Token } from "./token.js";
import { MAX_TOKEN } from "./token.js";

/** FORMAT CONSTANT: version of the serialised ring state this package writes and reads. */
export const RING_STATE_VERSION = 1;

/** Longest accepted node id, in UTF-16 code units. Ids travel in every gossip message. */
export const MAX_NODE_ID_LENGTH = 256;

/**
 * Serialised ring (JSON-safe: tokens are decimal strings because JSON numbers cannot hold 64
 * bits). Nodes are sorted by id, explicit tokens ascending, so equal rings serialise equally.
 */
export interface RingState {
  version: typeof RING_STATE_VERSION;
  /** The ring's default tokens per node (`RingOptions.virtualNodes`). */
  virtualNodes: number;
  nodes: RingNodeState[];
}

export interface RingNodeState {
  id: string;
  /** Tokens given explicitly to `addNode`, as unsigned decimal strings. Absent if derived. */
  tokens?: string[];
  /** Per-node token count given to `addNode`. Absent if the ring default applies. */
  virtualNodes?: number;
}

/** A validated node of a parsed state. */
export interface ParsedNode {
  id: string;
  tokens: Token[] | undefined;
  virtualNodes: number | undefined;
}

const STATE_KEYS = new Set(["version", "virtualNodes", "nodes"]);
const NODE_KEYS = new Set(["id", "tokens", "virtualNodes"]);
const DECIMAL = /^(?:0|[1-9][0-9]{0,19})$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function rejectUnknownKeys(obj: Record<string, unknown>, allowed: Set<string>, path: string) {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) throw new InvalidRingStateError(path, `unknown field ${describe(key)}`);
  }
}

function parseCount(value: unknown, path: string): number {
  if (
    typeof value !== "number" ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_VIRTUAL_NODES
  ) {
    throw new InvalidRingStateError(
      path,
      `expected an integer in [1, ${MAX_VIRTUAL_NODES}], got ${describe(value)}`,
    );
  }
  return value;
}

/** Why `id` is not a valid node id, or undefined if it is (callers pick the error type). */
export function nodeIdProblem(id: unknown): string | undefined {
  if (typeof id !== "string") return `a node id must be a string, got ${describe(id)}`;
  if (id.length === 0) return "a node id must not be empty";
  if (id.length > MAX_NODE_ID_LENGTH) {
    return `a node id must be at most ${MAX_NODE_ID_LENGTH} characters, got ${id.length}`;
  }
  return undefined;
}

/**
 * Validates untrusted serialised state (e.g. from gossip) completely before anything is built,
 * so a malformed message cannot leave a half-built ring behind.
 */
export function parseRingState(state: unknown): {
  virtualNodes: number;
  nodes: ParsedNode[];
} {
  if (!isPlainObject(state)) {
    throw new InvalidRingStateError("$", `expected an object, got ${describe(state)}`);
  }
  rejectUnknownKeys(state, STATE_KEYS, "$");
  if (state.version !== RING_STATE_VERSION) {
    throw new InvalidRingStateError(
      "$.version",
      `unsupported version ${describe(state.version)} (this build reads ${RING_STATE_VERSION})`,
    );
  }
  const virtualNodes = parseCount(state.virtualNodes, "$.virtualNodes");
  if (!Array.isArray(state.nodes)) {
    throw new InvalidRingStateError("$.nodes", `expected an array, got ${describe(state.nodes)}`);
  }
  const seen = new Set<string>();
  const nodes: ParsedNode[] = [];
  // Index loops, not forEach: forEach skips holes, which would silently drop entries.
  for (let i = 0; i < state.nodes.length; i++) {
    const raw: unknown = state.nodes[i];
    const path = `$.nodes[${i}]`;
    if (!isPlainObject(raw)) {
      throw new InvalidRingStateError(path, `expected an object, got ${describe(raw)}`);
    }
    rejectUnknownKeys(raw, NODE_KEYS, path);
    const problem = nodeIdProblem(raw.id);
    if (problem !== undefined) throw new InvalidRingStateError(`${path}.id`, problem);
    const id = raw.id as string;
    if (seen.has(id)) {
      throw new InvalidRingStateError(`${path}.id`, `duplicate node id ${describe(id)}`);
    }
    seen.add(id);
    let tokens: Token[] | undefined;
    let nodeVirtualNodes: number | undefined;
    if (raw.tokens !== undefined && raw.virtualNodes !== undefined) {
      throw new InvalidRingStateError(path, "a node has either tokens or virtualNodes, not both");
    }
    if (raw.tokens !== undefined) tokens = parseTokenList(raw.tokens, `${path}.tokens`);
    if (raw.virtualNodes !== undefined) {
      nodeVirtualNodes = parseCount(raw.virtualNodes, `${path}.virtualNodes`);
    }
    nodes.push({ id, tokens, virtualNodes: nodeVirtualNodes });
  }
  return { virtualNodes, nodes };
}

function parseTokenList(value: unknown, path: string): Token[] {
  if (!Array.isArray(value)) {
    throw new InvalidRingStateError(path, `expected an array, got ${describe(value)}`);
  }
  if (value.length === 0 || value.length > MAX_VIRTUAL_NODES) {
    throw new InvalidRingStateError(
      path,
      `expected 1 to ${MAX_VIRTUAL_NODES} tokens, got ${value.length}`,
    );
  }
  const out: Token[] = [];
  const seen = new Set<Token>();
  for (let i = 0; i < value.length; i++) {
    const text: unknown = value[i];
    if (typeof text !== "string" || !DECIMAL.test(text)) {
      throw new InvalidRingStateError(
        `${path}[${i}]`,
        `expected an unsigned decimal string, got ${describe(text)}`,
      );
    }
    const token = BigInt(text);
    if (token > MAX_TOKEN) throw new InvalidRingStateError(`${path}[${i}]`, "not below 2^64");
    if (seen.has(token)) throw new InvalidRingStateError(`${path}[${i}]`, `duplicate ${text}`);
    seen.add(token);
    out.push(token);
  }
  return out;
}
