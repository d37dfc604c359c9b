import { parseLlamaConfig, type LlamaConfig } from '@mil/checkpoint';
import { describe, it, expect } from 'vitest';
import { buildLlamaTrainGraph, llamaOracleForward, randomLlamaWeights } from '@mil/models';
import { perplexity, lossCurveSvg } from '../src/index';

const cfg = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 23, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 2,
  num_key_value_heads: 1, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true, max_position_embeddings: 32,
});

describe('perplexity', () => {
  it('equals exp(mean NLL) from the oracle over non-overlapping windows', async () => {
    const w = randomLlamaWeights(cfg, 5);
    const tokens = Int32Array.from({ length: 41 }, (_, i) => (i * 7 + 3) % 23);
    const seq = 8;
    const r = await perplexity((g) => buildLlamaTrainGraph(g, cfg, { maxPositions: seq }).logits, w, tokens, { seq, batch: 3, threads: 1 });
    let nll = 0;
    let n = 0;
    for (let s = 0; s + seq < tokens.length; s += seq) {
      const ids = Array.from(tokens.subarray(s, s + seq));
      const { logits } = llamaOracleForward(cfg, (k) => w.get(k), [ids]);
      for (let t = 0; t < seq; t++) {
        const row = logits.subarray(t * 23, t * 23 + 23);
        const m = Math.max(...row);
        const z = row.reduce((a, v) => a + Math.exp(v - m), 0);
        nll -= row[tokens[s + t + 1]] - m - Math.log(z);
        n++;
      }
    }
    expect(r.tokens).toBe(n);
    expect(r.perplexity).toBeCloseTo(Math.exp(nll / n), 3);
  });
});

describe('lossCurveSvg', () => {
  it('draws one polyline per series with escaped labels', () => {
    const svg = lossCurveSvg([{ name: 'a<b', points: [{ x: 0, y: 3 }, { x: 10, y: 1 }] }, { name: 'c', points: [{ x: 0, y: 2 }] }], { title: 'loss' });
    expect(svg.match(/<polyline/g)?.length).toBe(2);
    expect(svg).toContain('a&lt;b');
    expect(svg.startsWith('<svg')).toBe(true);
  });
});
