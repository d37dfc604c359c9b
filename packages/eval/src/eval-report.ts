// The comparison table and report sections of `mil eval` results (one ModelEvalResult per model).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ModelEvalResult } from './evaluate';
import { heatmapSvg } from './heatmap-svg';
import { lossCurveSvg } from './loss-curve-svg';
import type { ReportSection } from './report-html';

const f2 = (x: number) => x.toFixed(2);

/**
 * One row per model, one column per metric that any result has (ppl per set, long-context ppl at 1× and at the
 * end, acc / acc_norm per mc file, needle accuracy, decode tokens/s and TTFT at the longest prompt).
 *
 * @example
 * const { head, rows } = compareTable([teacher, student]); console.log(formatTable(head, rows));
 */
export function compareTable(results: readonly ModelEvalResult[]): { head: string[]; rows: string[][] } {
  const cols: { name: string; get: (r: ModelEvalResult) => string }[] = [
    { name: 'model', get: (r) => r.model.name },
    { name: 'kind', get: (r) => (r.model.kind === 'teacher' ? 'teacher' : `hybrid ${r.model.attnLayers}A/${r.model.ssmLayers}M`) },
    { name: 'params', get: (r) => r.model.params.toLocaleString('en-US') },
  ];
  const first = <T>(get: (r: ModelEvalResult) => T | undefined) => results.map(get).find((x) => x !== undefined);
  for (const set of Object.keys(first((r) => r.ppl) ?? {})) cols.push({ name: `ppl ${set}`, get: (r) => (r.ppl?.[set] ? f2(r.ppl[set].ppl) : '-') });
  const long = first((r) => r.long);
  if (long) {
    const at = (r: ModelEvalResult, lo: number, hi: number) => {
      const pts = r.long?.curve.filter((p) => p.position >= lo && p.position < hi && Number.isFinite(p.ppl)) ?? [];
      return pts.length ? f2(Math.exp(pts.reduce((s, p) => s + Math.log(p.ppl), 0) / pts.length)) : '-';
    };
    // One split for every model: the first model's trained sequence length (the embedded teacher: 256; config allows 1024).
    const train = results[0].model.trainedContext;
    cols.push({ name: `long ppl <${train}`, get: (r) => at(r, 0, train) });
    cols.push({ name: `long ppl ${train}–${long.length}`, get: (r) => at(r, train, Infinity) });
  }
  for (const task of Object.keys(first((r) => r.mc) ?? {})) {
    cols.push({ name: `${task} acc`, get: (r) => (r.mc?.[task] ? f2(r.mc[task].acc) : '-') });
    cols.push({ name: `${task} acc_norm`, get: (r) => (r.mc?.[task] ? f2(r.mc[task].acc_norm) : '-') });
  }
  if (first((r) => r.needle)) cols.push({ name: 'needle acc', get: (r) => (r.needle ? f2(r.needle.accuracy) : '-') });
  const sp = first((r) => r.speed);
  if (sp) {
    const last = sp[sp.length - 1];
    const pick = (r: ModelEvalResult) => r.speed?.find((p) => p.prompt === last.prompt && p.gen === last.gen);
    cols.push({ name: `decode tok/s @${last.prompt}`, get: (r) => (pick(r) ? pick(r)!.decodeTokensPerSec.toFixed(1) : '-') });
    cols.push({ name: `TTFT s @${last.prompt}`, get: (r) => (pick(r) ? pick(r)!.ttft.toFixed(3) : '-') });
  }
  return { head: cols.map((c) => c.name), rows: results.map((r) => cols.map((c) => c.get(r))) };
}

/** The distillation loss curve of the run folder a student sits in (`runs/<run>/student` → `runs/<run>/loss-curve.svg`). */
function runLossCurve(dir: string): string | null {
  const svg = join(dirname(dir.replace(/\/+$/, '')), 'loss-curve.svg');
  return existsSync(svg) ? readFileSync(svg, 'utf8') : null;
}

/**
 * Report sections for `reportHtml`: the comparison table, loss curves of run folders, the per-set perplexity
 * table, the long-context curve, one needle heat-map per model and the speed plot.
 *
 * @example
 * await writeReport('runs/eval-1', 'mil eval', evalReportSections(results));
 */
export function evalReportSections(results: readonly ModelEvalResult[]): ReportSection[] {
  const s: ReportSection[] = [];
  const t = compareTable(results);
  // Transposed (one column per model) so that many metrics fit the page.
  const summary = { head: ['metric', ...t.rows.map((r) => r[0])], rows: t.head.slice(1).map((h, i) => [h, ...t.rows.map((r) => r[i + 1])]) };
  s.push({ heading: 'Summary', table: summary, note: `models: ${results.map((r) => r.model.dir).join(', ')}` });
  for (const r of results) {
    const svg = r.model.kind === 'hybrid' ? runLossCurve(r.model.dir) : null;
    if (svg) s.push({ heading: `Distillation loss: ${r.model.name}`, svg });
  }
  if (results.some((r) => r.ppl))
    s.push({
      heading: 'Perplexity (sliding window)',
      table: {
        head: ['model', 'set', 'tokens', 'nll', 'ppl'],
        rows: results.flatMap((r) => Object.entries(r.ppl ?? {}).map(([k, v]) => [r.model.name, k, v.tokens, v.nll.toFixed(4), v.ppl.toFixed(2)])),
      },
    });
  if (results.some((r) => r.long)) {
    const series = results.filter((r) => r.long).map((r) => ({ name: r.model.name, points: r.long!.curve.filter((p) => Number.isFinite(p.ppl)).map((p) => ({ x: p.position, y: Math.log(p.ppl) })) }));
    s.push({
      heading: 'Long context: perplexity by position',
      svg: lossCurveSvg(series, { title: `log perplexity by position (trained on ${[...new Set(results.map((r) => r.model.trainedContext))].join(' / ')} tokens)`, xLabel: 'position', yLabel: 'ln ppl' }),
      note: `held-out SOTU 2001–2021 speeches, ${results.find((r) => r.long)!.long!.sequences} sequences; positions past the trained sequence length (${results.map((r) => `${r.model.name}: ${r.model.trainedContext}`).join(', ')}) test length extrapolation`,
    });
  }
  for (const r of results.filter((x) => x.mc)) {
    s.push({ heading: `Multiple choice: ${r.model.name}`, table: { head: ['task', 'items', 'few-shot', 'acc', 'acc_norm'], rows: Object.entries(r.mc!).map(([k, v]) => [k, v.items, v.fewShot, f2(v.acc), f2(v.acc_norm)]) } });
  }
  for (const r of results.filter((x) => x.needle)) {
    const n = r.needle!;
    s.push({
      heading: `Needle (passkey) retrieval: ${r.model.name}`,
      svg: heatmapSvg(n.correct, { rows: n.lengths.map(String), cols: n.depths.map((d) => `${Math.round(d * 100)}%`), title: `passkey retrieved (accuracy ${f2(n.accuracy)})`, xLabel: 'depth', yLabel: 'length (tokens)' }),
    });
  }
  if (results.some((r) => r.speed)) {
    const gens = [...new Set(results.flatMap((r) => r.speed?.map((p) => p.gen) ?? []))];
    const series = results.filter((r) => r.speed).flatMap((r) => gens.map((g) => ({ name: `${r.model.name} gen ${g}`, points: r.speed!.filter((p) => p.gen === g).map((p) => ({ x: p.prompt, y: p.decodeTokensPerSec })) })));
    s.push({ heading: 'Generation speed', svg: lossCurveSvg(series, { title: 'greedy decode tokens/s by prompt length', xLabel: 'prompt tokens', yLabel: 'tokens/s' }) });
    s.push({
      heading: 'Generation speed (table)',
      table: { head: ['model', 'prompt', 'gen', 'TTFT s', 'prefill tok/s', 'decode tok/s'], rows: results.flatMap((r) => (r.speed ?? []).map((p) => [r.model.name, p.prompt, p.gen, p.ttft.toFixed(3), p.prefillTokensPerSec.toFixed(0), p.decodeTokensPerSec.toFixed(1)])) },
    });
  }
  return s;
}
