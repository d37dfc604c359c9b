// Loss values against plain TypeScript formulas, and their gradients against float64 finite differences.
import { describe, it, expect } from 'vitest';
import { Graph, Runner, reshape } from '@mil/graph';
import { crossEntropy, dpoLoss, forwardKl, klPlusCe, reverseKl, sequenceLogProb } from '../src/losses';
import { mulberry32 } from '@mil/core';
import { gradCheck } from '@mil/graph/testing';

const B = 2, S = 3, V = 5;
const rand = mulberry32(42);
const logitsS = Float64Array.from({ length: B * S * V }, () => rand() * 4 - 2);
const logitsT = Float64Array.from({ length: B * S * V }, () => rand() * 4 - 2);
const targets = BigInt64Array.from([1n, -100n, 4n, 0n, 2n, -100n]);

function logSoftmaxRow(x: Float64Array, off: number): number[] {
  let m = -Infinity;
  for (let v = 0; v < V; v++) m = Math.max(m, x[off + v]);
  let z = 0;
  for (let v = 0; v < V; v++) z += Math.exp(x[off + v] - m);
  return Array.from({ length: V }, (_, v) => x[off + v] - m - Math.log(z));
}

async function evalLoss(build: (g: Graph) => ReturnType<typeof crossEntropy>): Promise<number> {
  const g = new Graph();
  const loss = build(g);
  const model = g.toModel({ outputs: { loss: reshape(loss, [1]) } });
  const run = await Runner.create(model, { threads: 1, optimization: 'basic' });
  const feeds: Record<string, { data: Float64Array | BigInt64Array; dims: number[] }> = {};
  for (const t of g.inputs.filter((i) => model.inputNames.includes(i.name))) feeds[t.name] = { data: t.name === 'targets' ? targets : t.name === 's' ? logitsS : logitsT, dims: t.shape as number[] };
  return (await run.run(feeds)).loss.data[0] as number;
}

describe('loss values', () => {
  it('cross-entropy is the mean NLL over non-ignored targets', async () => {
    let nll = 0, n = 0;
    for (let p = 0; p < B * S; p++) {
      const t = Number(targets[p]);
      if (t === -100) continue;
      nll -= logSoftmaxRow(logitsS, p * V)[t];
      n++;
    }
    const got = await evalLoss((g) => crossEntropy(g.input('s', 'float64', [B, S, V]), g.input('targets', 'int64', [B, S])));
    expect(got).toBeCloseTo(nll / n, 12);
  });

  it('forward / reverse KL, masked mean and the reference reduction', async () => {
    let fwdMasked = 0, fwdAll = 0, revMasked = 0, n = 0;
    for (let p = 0; p < B * S; p++) {
      const ls = logSoftmaxRow(logitsS, p * V), lt = logSoftmaxRow(logitsT, p * V);
      let f = 0, r = 0;
      for (let v = 0; v < V; v++) {
        f += Math.exp(lt[v]) * (lt[v] - ls[v]);
        r += Math.exp(ls[v]) * (ls[v] - lt[v]);
      }
      fwdAll += f;
      if (targets[p] !== -100n) { fwdMasked += f; revMasked += r; n++; }
    }
    const inputs = (g: Graph) => [g.input('s', 'float64', [B, S, V]), g.input('t', 'float64', [B, S, V]), g.input('targets', 'int64', [B, S])] as const;
    expect(await evalLoss((g) => { const [s, t, y] = inputs(g); return forwardKl(s, t, { targets: y }); })).toBeCloseTo(fwdMasked / n, 12);
    expect(await evalLoss((g) => { const [s, t] = inputs(g); return forwardKl(s, t, { reduction: 'reference' }); })).toBeCloseTo(fwdAll / B, 12);
    expect(await evalLoss((g) => { const [s, t, y] = inputs(g); return reverseKl(s, t, { targets: y }); })).toBeCloseTo(revMasked / n, 12);
    const combo = await evalLoss((g) => { const [s, t, y] = inputs(g); return klPlusCe(forwardKl(s, t, { targets: y }), crossEntropy(s, y)); });
    expect(combo).toBeGreaterThan(0);
  });

  it('KL is zero when student equals teacher, positive otherwise', async () => {
    const same = await evalLoss((g) => { const s = g.input('s', 'float64', [B, S, V]); return forwardKl(s, s, { reduction: 'reference' }); });
    expect(Math.abs(same)).toBeLessThan(1e-12);
  });
});

describe('loss gradients vs finite differences', () => {
  const y = { name: 'targets', shape: [B, S], int64: targets };
  it('cross-entropy', async () => {
    const r = await gradCheck([{ name: 's', shape: [B, S, V] }, y], ([s, t]) => reshape(crossEntropy(s, t), [1]));
    expect(r.maxRelError).toBeLessThan(1e-6);
  });
  it('forward KL with temperature (both logits)', async () => {
    const r = await gradCheck([{ name: 's', shape: [B, S, V] }, { name: 't', shape: [B, S, V] }, y], ([s, t, tg]) => reshape(forwardKl(s, t, { targets: tg, temperature: 2 }), [1]));
    expect(r.maxRelError).toBeLessThan(1e-6);
  });
  it('reverse KL', async () => {
    const r = await gradCheck([{ name: 's', shape: [B, S, V] }, { name: 't', shape: [B, S, V] }, y], ([s, t, tg]) => reshape(reverseKl(s, t, { targets: tg }), [1]));
    expect(r.maxRelError).toBeLessThan(1e-6);
  });
  it('DPO sigmoid loss through sequence log-probs', async () => {
    const r = await gradCheck(
      [{ name: 'w', shape: [B, S, V] }, { name: 'l', shape: [B, S, V] }, { name: 'rw', shape: [B] }, { name: 'rl', shape: [B] }, y],
      ([w, l, rw, rl, tg]) => reshape(dpoLoss(sequenceLogProb(w, tg), sequenceLogProb(l, tg), rw, rl, 0.5), [1]),
    );
    expect(r.maxRelError).toBeLessThan(1e-6);
  });
});
