// Plain-text tables for benchmark reports (right-aligned numbers, left-aligned text).

export type Cell = string | number | null | undefined;

/** Formats a number with `digits` significant digits, keeping integers of up to 7 digits intact. */
export function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e7)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

/**
 * Renders rows under a header, columns padded to their widest cell.
 *
 * @example
 * console.log(formatTable(['what', 'ms'], [['step', 12.5], ['matmul', 3]]));
 */
export function formatTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = (c: Cell) => (c === null || c === undefined ? '' : typeof c === 'number' ? fmt(c) : c);
  const cells = rows.map((r) => header.map((_, i) => text(r[i])));
  const numeric = header.map((_, i) => rows.every((r) => r[i] === null || r[i] === undefined || typeof r[i] === 'number'));
  const width = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (numeric[i] ? c.padStart(width[i]) : c.padEnd(width[i]))).join('  ').trimEnd();
  return [line(header), width.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
