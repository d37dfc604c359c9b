/** Plain-text table with right-aligned numeric columns. */
export function formatTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const isNum = head.map((_, i) => rows.every((r) => /^[\d.,e+-]+$/.test(r[i])));
  const line = (cells: string[]) => cells.map((c, i) => (isNum[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
