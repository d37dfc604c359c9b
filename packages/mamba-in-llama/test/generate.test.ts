// mil generate end to end: plain and speculative greedy decoding print the same text, the stats line reports the
// speculative run (and the comparison with plain decoding), and bad speculative options are named.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(__dirname, '../../..');
const mil = (...args: string[]) =>
  spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'packages/mamba-in-llama/src/cli.ts', 'generate', ...args], { cwd: root, encoding: 'utf8' });

describe('mil generate', () => {
  it('speculative greedy output (n-gram, tiny draft, tiny draft with adaptive K and lookup first) equals plain greedy output', () => {
    const prompt = ['--prompt', 'We will not tire, we will not falter, and we will not fail. We will', '--max-new-tokens', '24'];
    const plain = mil(...prompt);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(/24 tokens \(length\) · [\d.]+ tokens\/s/);
    expect(plain.stderr).not.toContain('acceptance');
    const text = plain.stdout.trim();
    expect(text.length).toBeGreaterThan(70);
    for (const draft of [['ngram'], ['models/sotu-tiny-draft'], ['models/sotu-tiny-draft', '--draft-confidence', '0.3', '--lookup-first']]) {
      const spec = mil(...prompt, '--draft', ...draft, '--speculate', '3', '--compare-plain');
      expect(spec.status, spec.stderr).toBe(0);
      expect(spec.stdout.trim()).toBe(text);
      const stats = spec.stderr.trim().split('\n').at(-1)!;
      expect(stats).toMatch(/^24 tokens \(length\) · K=3 · acceptance [\d.]+% · [\d.]+ tokens\/round · [\d.]+ tokens\/s · plain [\d.]+ tokens\/s · speedup [\d.]+× · output identical to plain$/);
      const perRound = Number(/([\d.]+) tokens\/round/.exec(stats)![1]);
      expect(perRound).toBeGreaterThanOrEqual(1);
      expect(perRound).toBeLessThanOrEqual(4);
    }
  }, 300_000);

  it('names bad speculative options', () => {
    const k = mil('--draft', 'ngram', '--speculate', '0');
    expect(k.status).toBe(2);
    expect(k.stderr).toContain('mil: [BAD_FLAG] --speculate must be an integer in [1, 32]; got "0"');
    const c = mil('--compare-plain');
    expect(c.status).toBe(2);
    expect(c.stderr).toContain('--compare-plain needs --draft');
    const d = mil('--draft', 'models/no-such-draft', '--max-new-tokens', '1');
    expect(d.status).toBe(1);
    expect(d.stderr).toContain('models/no-such-draft');
    const p = mil('--draft', 'ngram', '--draft-confidence', '0.3');
    expect(p.status).toBe(2);
    expect(p.stderr).toContain('--draft-confidence and --lookup-first need --draft <dir>');
    const q = mil('--draft', 'models/sotu-tiny-draft', '--draft-confidence', '1');
    expect(q.status).toBe(2);
    expect(q.stderr).toContain('--draft-confidence');
  }, 240_000);
});
