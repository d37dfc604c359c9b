// Measures why the optimizers run on typed arrays in JS instead of as an ONNX graph in onnxruntime:
// one AdamW step over N parameters in JS vs (a) the same update as an ORT graph, inputs and outputs included,
// and (b) merely passing the weights through an ORT session (Identity). Prints a table and JSON.
//   node --conditions=source --import tsx benchmarks/optim-adamw-vs-ort.ts [numParams=5000000] [threads=2]
import { Runner, encodeModel, type ModelSpec, type NodeSpec } from '@mil/graph';
import { mulberry32, randn } from '@mil/core';
import { AdamW, SGD, clipGradNorm } from '@mil/distill';

const N = Number(process.argv[2] ?? 5_000_000);
const THREADS = Number(process.argv[3] ?? 2);
const REPEATS = 9;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
// The machines are shared and noisy: run the cases round-robin so load hits all of them alike, then take medians.
async function timeRoundRobin(cases: [string, () => unknown | Promise<unknown>][]): Promise<Map<string, number>> {
  for (const [, fn] of cases) await fn(); // warm-up (JIT, ORT allocations)
  const ms = new Map(cases.map(([name]) => [name, [] as number[]]));
  for (let r = 0; r < REPEATS; r++) {
    for (const [name, fn] of cases) {
      const t0 = performance.now();
      await fn();
      ms.get(name)!.push(performance.now() - t0);
    }
  }
  return new Map([...ms].map(([k, v]) => [k, median(v)]));
}

const node = (opType: string, inputs: string[], outputs: string[]): NodeSpec => ({
  opType, domain: '', name: `${opType}_${outputs[0]}`, inputs, outputs, attributes: {},
});
const vec = (name: string) => ({ name, dtype: 'float32' as const, shape: [N] });
const scalar = (name: string) => ({ name, dtype: 'float32' as const, shape: [] as number[] });
function model(nodes: NodeSpec[], inputs: ReturnType<typeof vec>[], outputs: ReturnType<typeof vec>[]): Uint8Array {
  const spec: ModelSpec = {
    irVersion: 10, opsetImports: [{ domain: '', version: 21 }], producerName: 'bench',
    graph: { name: 'g', nodes, inputs, outputs, initializers: [] },
  };
  return encodeModel(spec);
}

// AdamW as ONNX ops; the scalars (β's, step size, bias correction, decay) are fed per step.
const adamwModel = model(
  [
    node('Mul', ['p', 'decay'], ['pd']),
    node('Mul', ['m', 'b1'], ['m1']), node('Mul', ['g', 'a1'], ['g1']), node('Add', ['m1', 'g1'], ['m_out']),
    node('Mul', ['g', 'g'], ['gg']), node('Mul', ['v', 'b2'], ['v1']), node('Mul', ['gg', 'a2'], ['g2']),
    node('Add', ['v1', 'g2'], ['v_out']),
    node('Sqrt', ['v_out'], ['sv']), node('Div', ['sv', 'bc2'], ['svc']), node('Add', ['svc', 'eps'], ['den']),
    node('Div', ['m_out', 'den'], ['upd']), node('Mul', ['upd', 'step_size'], ['upds']), node('Sub', ['pd', 'upds'], ['p_out']),
  ],
  [vec('p'), vec('g'), vec('m'), vec('v'), ...['decay', 'b1', 'a1', 'b2', 'a2', 'bc2', 'eps', 'step_size'].map(scalar)],
  [vec('p_out'), vec('m_out'), vec('v_out')],
);
const identityModel = model([node('Identity', ['p'], ['p_out'])], [vec('p')], [vec('p_out')]);

async function main(): Promise<void> {
  const rand = mulberry32(1);
  const p = randn(rand, N, 0.02);
  const g = randn(rand, N, 1e-3);
  const chunks = 20; // a realistic model is many tensors; the JS loop runs once per tensor
  const named = Array.from({ length: chunks }, (_, i) => ({
    name: `w${i}`, data: p.subarray((i * N) / chunks, ((i + 1) * N) / chunks), shape: [N / chunks],
  }));
  const grads = new Map(named.map((x, i) => [x.name, g.subarray((i * N) / chunks, ((i + 1) * N) / chunks)]));
  const adamw = new AdamW(named, { lr: 1e-4, weightDecay: 0.01, noDecay: [] });
  const sgd = new SGD(named, { lr: 1e-4, momentum: 0.9 });
  const gClip = g.slice();

  const sc = (x: number) => ({ data: new Float32Array([x]), dims: [] as number[] });
  const m = new Float32Array(N);
  const v = new Float32Array(N);
  const ortAdamw = await Runner.create(adamwModel, { threads: THREADS });
  const ortId = await Runner.create(identityModel, { threads: THREADS });
  const feeds = {
    p: { data: p, dims: [N] }, g: { data: g, dims: [N] }, m: { data: m, dims: [N] }, v: { data: v, dims: [N] },
    decay: sc(1 - 1e-6), b1: sc(0.9), a1: sc(0.1), b2: sc(0.999), a2: sc(0.001), bc2: sc(0.5), eps: sc(1e-8), step_size: sc(1e-4),
  };
  let runOnly: number[] = [];
  // Each step's outputs must be copied back into the arrays the training graph reads, as a real loop would.
  const ortStep = async () => {
    const out = await ortAdamw.run(feeds);
    runOnly.push(ortAdamw.lastRunMs);
    p.set(out.p_out.data as Float32Array);
    m.set(out.m_out.data as Float32Array);
    v.set(out.v_out.data as Float32Array);
  };
  const t = await timeRoundRobin([
    ['js_adamw', () => adamw.step(grads)],
    ['js_sgd', () => sgd.step(grads)],
    ['js_clip', () => clipGradNorm([gClip], 1e9)],
    ['js_copy', () => p.slice()],
    ['ort_adamw', ortStep],
    ['ort_identity', () => ortId.run({ p: { data: p, dims: [N] } })],
  ]);
  runOnly = runOnly.slice(1);
  await ortAdamw.release();
  await ortId.release();

  const rows: [string, number][] = [
    ['JS AdamW step (fused, in place)', t.get('js_adamw')!],
    ['JS SGD momentum step', t.get('js_sgd')!],
    ['JS clipGradNorm (norm + scale pass)', t.get('js_clip')!],
    ['JS Float32Array copy of the weights', t.get('js_copy')!],
    ['ORT AdamW graph step (p,g,m,v in; p,m,v out; copied back)', t.get('ort_adamw')!],
    ['  of which session.run', median(runOnly)],
    ['ORT Identity: weights in and out of a session', t.get('ort_identity')!],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  const out: string[] = [`AdamW vs ORT, ${N.toLocaleString('en')} params, ${THREADS} ORT threads, median of ${REPEATS}`];
  for (const [name, ms] of rows) out.push(`${name.padEnd(width)}  ${ms.toFixed(1).padStart(8)} ms`);
  process.stdout.write(`${out.join('\n')}\n${JSON.stringify({ numParams: N, threads: THREADS, ms: Object.fromEntries(rows) })}\n`);
}

void main();
