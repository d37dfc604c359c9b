// A dependency-free SVG heat-map (rows × columns of values in [0, 1]), used for needle retrieval.

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/** Red (0) → yellow → green (1). */
function color(v: number): string {
  const x = Math.min(1, Math.max(0, v));
  const r = x < 0.5 ? 220 : Math.round(220 - (x - 0.5) * 2 * 180);
  const g = x < 0.5 ? Math.round(60 + x * 2 * 160) : 220;
  return `rgb(${r},${g},60)`;
}

/**
 * Renders `values[row][col]` (0..1) as coloured cells with row / column labels and the value in each cell.
 *
 * @example
 * heatmapSvg([[1, 0], [1, 1]], { rows: ['1k', '2k'], cols: ['0%', '100%'], title: 'needle', xLabel: 'depth', yLabel: 'length' });
 */
export function heatmapSvg(values: number[][], o: { rows: string[]; cols: string[]; title?: string; xLabel?: string; yLabel?: string; cell?: number }): string {
  const c = o.cell ?? 40;
  const m = { l: 70, t: 40, r: 20, b: 50 };
  const W = m.l + o.cols.length * c + m.r;
  const H = m.t + o.rows.length * c + m.b;
  const p: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title ?? '')}</text>`,
  ];
  values.forEach((row, i) =>
    row.forEach((v, j) => {
      const x = m.l + j * c;
      const y = m.t + i * c;
      p.push(`<rect x="${x}" y="${y}" width="${c - 1}" height="${c - 1}" fill="${Number.isFinite(v) ? color(v) : '#ccc'}"><title>${esc(`${o.rows[i]}, ${o.cols[j]}: ${v}`)}</title></rect>`);
      p.push(`<text x="${x + c / 2}" y="${y + c / 2 + 4}" text-anchor="middle">${Number.isFinite(v) ? +v.toFixed(2) : ''}</text>`);
    }),
  );
  o.rows.forEach((r, i) => p.push(`<text x="${m.l - 6}" y="${m.t + i * c + c / 2 + 4}" text-anchor="end">${esc(r)}</text>`));
  o.cols.forEach((s, j) => p.push(`<text x="${m.l + j * c + c / 2}" y="${m.t + o.rows.length * c + 14}" text-anchor="middle">${esc(s)}</text>`));
  p.push(`<text x="${m.l + (o.cols.length * c) / 2}" y="${H - 10}" text-anchor="middle">${esc(o.xLabel ?? '')}</text>`);
  p.push(`<text x="14" y="${m.t + (o.rows.length * c) / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.t + (o.rows.length * c) / 2})">${esc(o.yLabel ?? '')}</text>`);
  p.push('</svg>');
  return p.join('\n') + '\n';
}
