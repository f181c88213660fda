/** Pearson's chi-square statistic and a loose acceptance bound for tests with fixed seeds. */
export function chiSquare(observed: readonly number[], expected: readonly number[]): number {
  let x = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = expected[i]!;
    if (e === 0) {
      if (observed[i]! !== 0) return Number.POSITIVE_INFINITY;
      continue;
    }
    x += (observed[i]! - e) ** 2 / e;
  }
  return x;
}

/**
 * An upper bound the statistic stays under unless the distribution is wrong: the mean (df) plus
 * six standard deviations (sqrt(2 df)) plus a constant for small df. With fixed seeds the tests are
 * deterministic; the bound only has to separate "right" from "wrong" clearly.
 */
export function chiSquareBound(df: number): number {
  return df + 6 * Math.sqrt(2 * df) + 10;
}

/**
 * The exact distribution of YCSB's zipfian algorithm (Gray et al.) over items 0..k-1 of n:
 * items 0 and 1 get their true zipfian probabilities; every other draw u maps to
 * floor(n (eta u - eta + 1)^alpha), so item k gets the length of the u-interval mapping to it.
 * Derived here independently of the generator, to check the generator against it.
 */
export function grayZipfian(n: number, theta: number, zetan: number, k: number): number[] {
  const zeta2 = 1 + 0.5 ** theta;
  const eta = (1 - (2 / n) ** (1 - theta)) / (1 - zeta2 / zetan);
  const u0 = zeta2 / zetan;
  const g = (i: number) => Math.min(1, Math.max(u0, ((i / n) ** (1 - theta) - 1 + eta) / eta));
  const p = Array.from({ length: k }, (_, i) => Math.max(0, g(i + 1) - g(i)));
  p[0]! += 1 / zetan;
  if (k > 1) p[1]! += 0.5 ** theta / zetan;
  return p;
}
