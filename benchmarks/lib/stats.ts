// Order statistics for timing samples (medians resist the noise of a shared machine better than means).

/** Median of `xs` (mean of the two middle values for an even count). Throws on an empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median: no samples');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Smallest and largest sample. */
export function range(xs: readonly number[]): { min: number; max: number } {
  return { min: Math.min(...xs), max: Math.max(...xs) };
}

/** A number rounded to `digits` significant digits for JSON reports; null when not finite (or null). */
export function sig(x: number | null, digits = 4): number | null {
  return x !== null && Number.isFinite(x) ? Number(x.toPrecision(digits)) : null;
}

/** `sig` over every value of a record. */
export function sigMap(o: Record<string, number>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, sig(x)]));
}
