/**
 * Generalised harmonic numbers: zeta(n, theta) = sum_{i=1..n} 1 / i^theta, the normalising
 * constant of a zipfian distribution over n items. YCSB's scrambled zipfian draws from 10^10
 * items, too many to sum, so beyond DIRECT_TERMS the tail is the Euler-Maclaurin expansion
 * (integral + end-point corrections), which is exact to ~1e-12 relative there.
 */

const DIRECT_TERMS = 1_000_000;

/** sum_{i=from+1..to} 1 / i^theta, summed directly (to - from terms). */
export function zetaRangeDirect(from: number, to: number, theta: number): number {
  let sum = 0;
  for (let i = from + 1; i <= to; i++) sum += 1 / i ** theta;
  return sum;
}

/**
 * sum_{i=a..b} f(i) for f(x) = x^-theta by Euler-Maclaurin: the integral from a to b, plus
 * (f(a) + f(b)) / 2, plus the first two Bernoulli corrections. Accurate for a >= ~1000.
 */
function eulerMaclaurin(a: number, b: number, theta: number): number {
  const f = (x: number) => x ** -theta;
  const f1 = (x: number) => -theta * x ** (-theta - 1);
  const f3 = (x: number) => -theta * (-theta - 1) * (-theta - 2) * x ** (-theta - 3);
  const integral =
    theta === 1 ? Math.log(b / a) : (b ** (1 - theta) - a ** (1 - theta)) / (1 - theta);
  return integral + (f(a) + f(b)) / 2 + (f1(b) - f1(a)) / 12 - (f3(b) - f3(a)) / 720;
}

/** zeta(n, theta) for n >= 0 (0 for n = 0). */
export function zeta(n: number, theta: number): number {
  if (n <= DIRECT_TERMS) return zetaRangeDirect(0, n, theta);
  return zetaRangeDirect(0, DIRECT_TERMS - 1, theta) + eulerMaclaurin(DIRECT_TERMS, n, theta);
}
