/** A source of uniform floats in [0, 1): `Math.random` by default, a seeded one in simulation. */
export type RandomSource = () => number;

/** An integer in [0, n). */
export function randomInt(random: RandomSource, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/** Shuffles `items` in place (Fisher-Yates) and returns it. */
export function shuffle<T>(items: T[], random: RandomSource): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
  return items;
}

/** Up to `k` distinct elements of `items`, chosen uniformly (a partial shuffle of a copy). */
export function pickRandom<T>(items: readonly T[], k: number, random: RandomSource): T[] {
  if (k === 1 && items.length > 0) return [items[randomInt(random, items.length)]!];
  const pool = items.slice();
  const n = Math.min(k, pool.length);
  for (let i = 0; i < n; i++) {
    const j = i + randomInt(random, pool.length - i);
    const t = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = t;
  }
  pool.length = n;
  return pool;
}
