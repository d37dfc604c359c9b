// Pearson's chi-square goodness-of-fit test with its own survival function (regularized upper incomplete gamma).

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~1e-15 relative). */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Q(a, x) = Γ(a, x) / Γ(a): series for x < a + 1, Lentz continued fraction otherwise. */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnPre = a * Math.log(x) - x - lnGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return 1 - sum * Math.exp(lnPre);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(lnPre) * h;
}

/** P(X >= x) for X ~ chi-square with `df` degrees of freedom. */
export function chiSquareSurvival(x: number, df: number): number {
  return gammaQ(df / 2, x / 2);
}

/**
 * Goodness of fit of observed counts to expected probabilities. Cells with expected count < 5 are pooled (with
 * the next smallest until the pool reaches 5). A count in a cell of probability 0 gives p = 0.
 */
export function chiSquareTest(counts: readonly number[], probs: readonly number[]): { stat: number; df: number; p: number } {
  const n = counts.reduce((a, b) => a + b, 0);
  const cells: { o: number; e: number }[] = [];
  for (let i = 0; i < counts.length; i++) {
    const e = probs[i] * n;
    if (e === 0) {
      if (counts[i] > 0) return { stat: Infinity, df: 0, p: 0 };
      continue;
    }
    cells.push({ o: counts[i], e });
  }
  cells.sort((a, b) => a.e - b.e);
  const pooled: { o: number; e: number }[] = [];
  let acc = { o: 0, e: 0 };
  for (const c of cells) {
    if (c.e >= 5 && acc.e === 0) pooled.push(c);
    else {
      acc = { o: acc.o + c.o, e: acc.e + c.e };
      if (acc.e >= 5) {
        pooled.push(acc);
        acc = { o: 0, e: 0 };
      }
    }
  }
  if (acc.e > 0) {
    if (pooled.length > 0) {
      pooled[pooled.length - 1] = { o: pooled[pooled.length - 1].o + acc.o, e: pooled[pooled.length - 1].e + acc.e };
    } else pooled.push(acc);
  }
  let stat = 0;
  for (const c of pooled) stat += ((c.o - c.e) * (c.o - c.e)) / c.e;
  const df = pooled.length - 1;
  return { stat, df, p: df <= 0 ? 1 : chiSquareSurvival(stat, df) };
}
