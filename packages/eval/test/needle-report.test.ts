import { describe, it, expect } from 'vitest';
import { loadTokenizer } from '@mil/checkpoint';
import { heatmapSvg, loadTexts, needlePrompt, NEEDLE_DEPTHS, reportHtml, tokenStreams, writeReport } from '../src/index';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tokenizer = await loadTokenizer(new URL('../../../models/sotu-tiny', import.meta.url).pathname);
const filler = tokenStreams(tokenizer, loadTexts('sotu'), 6000).map((s) => s.slice(1)).flat();

describe('needle prompts', () => {
  it.each([512, 2048])('length %i: exact length, the passkey at each depth, the question last', (L) => {
    let prev = -1;
    for (const d of NEEDLE_DEPTHS) {
      const key = String(10000 + Math.round(d * 80000));
      const p = needlePrompt(tokenizer, filler, L, d, key);
      expect(p.ids).toHaveLength(L);
      expect(p.ids[0]).toBe(tokenizer.bosId);
      // Filler before the needle is round(depth × filler) tokens: the needle sits at that fraction of the haystack.
      expect(p.needleAt - 1).toBe(Math.round(d * p.filler));
      expect(p.needleAt).toBeGreaterThan(prev);
      prev = p.needleAt;
      const text = tokenizer.decode(p.ids.slice(p.needleAt), { skipSpecialTokens: true });
      expect(text.trimStart().startsWith(`The pass key is ${key}.`)).toBe(true);
      expect(text.endsWith('What is the pass key? The pass key is')).toBe(true);
      // The haystack is the held-out stream, cut at the depth.
      expect(p.ids.slice(1, p.needleAt)).toEqual(filler.slice(0, p.needleAt - 1));
      // The key occurs exactly twice (both in the needle).
      expect(tokenizer.decode(p.ids, { skipSpecialTokens: true }).split(key).length - 1).toBe(2);
    }
  });
});

describe('report.html', () => {
  it('is one self-contained page: inline SVG, escaped tables, no external resources', async () => {
    const svg = heatmapSvg([[1, 0], [0.5, 1]], { rows: ['1k', '2k'], cols: ['0%', '100%'], title: 'needle <t>' });
    expect(svg.match(/<rect x=/g)).toHaveLength(4);
    const html = reportHtml('eval <a & b>', [{ heading: 'Plot', svg }, { heading: 'Table', table: { head: ['model', 'ppl'], rows: [['t<1>', 29.57]] } }, { heading: 'Note', text: 'x & y' }]);
    expect(html).toContain('<h1>eval &lt;a &amp; b&gt;</h1>');
    expect(html).toContain('<td>t&lt;1&gt;</td><td class="n">29.57</td>');
    expect(html).toContain('needle &lt;t&gt;');
    expect(html).not.toMatch(/<script|<link|src=|href=/);
    const dir = mkdtempSync(join(tmpdir(), 'mil-report-'));
    const path = await writeReport(dir, 'x', [{ heading: 'h', text: 't' }]);
    expect(readFileSync(path, 'utf8')).toContain('<h2>h</h2>');
    expect(readdirSync(dir)).toEqual(['report.html']);
  });
});
