// A self-contained HTML report (inline SVG, no scripts, no external resources) that a person opens in a browser.
import { join } from 'node:path';
import { writeFileAtomic } from '@mil/checkpoint';

export type ReportSection =
  | { heading: string; svg: string; note?: string }
  | { heading: string; table: { head: string[]; rows: (string | number)[][] }; note?: string }
  | { heading: string; text: string };

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/**
 * Renders sections (tables, inline SVG plots, paragraphs) into one HTML page.
 *
 * @example
 * const html = reportHtml('eval', [{ heading: 'Perplexity', table: { head: ['model', 'ppl'], rows: [['teacher', 29.6]] } }]);
 */
export function reportHtml(title: string, sections: readonly ReportSection[], generated = new Date()): string {
  const body = sections.map((s) => {
    const h = `<h2>${esc(s.heading)}</h2>`;
    if ('svg' in s) return `${h}\n<figure>${s.svg.replace(/^<\?xml[^>]*>/, '')}</figure>${s.note ? `<p class="note">${esc(s.note)}</p>` : ''}`;
    if ('table' in s) {
      const num = (v: string | number) => typeof v === 'number' || /^[\d.,e+%-]+$/.test(v);
      const cell = (v: string | number) => `<td${num(v) ? ' class="n"' : ''}>${esc(String(v))}</td>`;
      const t = `<div class="scroll"><table><thead><tr>${s.table.head.map((x) => `<th>${esc(x)}</th>`).join('')}</tr></thead><tbody>${s.table.rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n')}</tbody></table></div>`;
      return `${h}\n${t}${s.note ? `<p class="note">${esc(s.note)}</p>` : ''}`;
    }
    return `${h}\n<p>${esc(s.text)}</p>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:3px 8px}th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:.5em 0}.scroll{overflow-x:auto}th{font-size:85%}.note{color:#666;font-size:90%}
</style></head><body>
<h1>${esc(title)}</h1>
<p class="note">generated ${esc(generated.toISOString())}</p>
${body.join('\n')}
</body></html>
`;
}

/**
 * Writes `report.html` into `dir` atomically (temp file + rename) and returns its path.
 *
 * @example
 * await writeReport('runs/eval-1', 'eval', sections);
 */
export async function writeReport(dir: string, title: string, sections: readonly ReportSection[]): Promise<string> {
  const path = join(dir, 'report.html');
  await writeFileAtomic(path, reportHtml(title, sections));
  return path;
}
