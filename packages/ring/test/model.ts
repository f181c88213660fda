/**
 * A deliberately naive reference ring for tests: BigInt tokens, a sorted array and linear scans,
 * sharing nothing with the real implementation except tokenOf (which has its own golden tests).
 */
import fc from "fast-check";
import { HashRing, MAX_TOKEN, RING_SIZE, type Token, tokenOf } from "../src/index.js";

export type NodeSpec =
  | { id: string; kind: "tokens"; tokens: bigint[] }
  | { id: string; kind: "derived"; virtualNodes: number | undefined };

/** Ring-wide default used by rings built from specs (small so rings stay small). */
export const SPEC_VIRTUAL_NODES = 5;

export function specTokens(spec: NodeSpec): bigint[] {
  if (spec.kind === "tokens") return spec.tokens;
  const count = spec.virtualNodes ?? SPEC_VIRTUAL_NODES;
  return Array.from({ length: count }, (_, i) => tokenOf(`${spec.id}#${i}`));
}

export function buildRing(specs: readonly NodeSpec[]): HashRing {
  const ring = new HashRing({ virtualNodes: SPEC_VIRTUAL_NODES });
  for (const s of specs) {
    if (s.kind === "tokens") ring.addNode(s.id, { tokens: s.tokens });
    else if (s.virtualNodes === undefined) ring.addNode(s.id);
    else ring.addNode(s.id, { virtualNodes: s.virtualNodes });
  }
  return ring;
}

export class ModelRing {
  readonly vnodes: { token: bigint; id: string }[];
  readonly ids: string[];

  constructor(nodes: readonly { id: string; tokens: readonly bigint[] }[]) {
    this.vnodes = nodes
      .flatMap((n) => n.tokens.map((token) => ({ token, id: n.id })))
      .sort((a, b) =>
        a.token !== b.token ? (a.token < b.token ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
      );
    this.ids = nodes.map((n) => n.id);
  }

  static fromSpecs(specs: readonly NodeSpec[]): ModelRing {
    return new ModelRing(specs.map((s) => ({ id: s.id, tokens: specTokens(s) })));
  }

  /** All distinct nodes clockwise from the first vnode whose token is >= token. */
  walk(token: Token): string[] {
    if (this.vnodes.length === 0) return [];
    let start = this.vnodes.findIndex((v) => v.token >= token);
    if (start < 0) start = 0;
    const out: string[] = [];
    for (let i = 0; i < this.vnodes.length; i++) {
      const id = this.vnodes[(start + i) % this.vnodes.length]!.id;
      if (!out.includes(id)) out.push(id);
    }
    return out;
  }

  preferenceList(token: Token, n: number, skip?: (id: string) => boolean): string[] {
    return this.walk(token)
      .filter((id) => !skip?.(id))
      .slice(0, n);
  }

  /** Tokens worth probing: every vnode token, its neighbours, and the ends of the ring. */
  probes(): Token[] {
    const out = new Set<Token>([0n, 1n, MAX_TOKEN]);
    for (const v of this.vnodes) {
      out.add(v.token);
      out.add((v.token + 1n) % RING_SIZE);
      out.add((v.token - 1n + RING_SIZE) % RING_SIZE);
    }
    return [...out];
  }
}

// Small alphabets make equal tokens across nodes (ties) and '#' in ids likely.
const idArb = fc.string({
  unit: fc.constantFrom("a", "b", "c", "n", "é", "#", "1"),
  minLength: 1,
  maxLength: 4,
});
export const tokenArb = fc.oneof(
  fc.bigInt({ min: 0n, max: 30n }),
  fc.bigInt({ min: 0n, max: MAX_TOKEN }),
  fc.constantFrom(MAX_TOKEN, MAX_TOKEN - 1n),
);
export const nodeSpecArb: fc.Arbitrary<NodeSpec> = fc.oneof(
  fc.record({
    id: idArb,
    kind: fc.constant("tokens" as const),
    tokens: fc.uniqueArray(tokenArb, { minLength: 1, maxLength: 6 }),
  }),
  fc.record({
    id: idArb,
    kind: fc.constant("derived" as const),
    virtualNodes: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
  }),
);
export const ringSpecArb = (maxLength = 14) =>
  fc.uniqueArray(nodeSpecArb, { selector: (n) => n.id, minLength: 0, maxLength });
