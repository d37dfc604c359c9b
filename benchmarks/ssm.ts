// Benchmark `ssm`: the Mamba inference graphs of @mil/ssm-kernels on onnxruntime-node's CPU EP, at the shapes of
// the paper's Llama-3-8B students, measured in one run against a stream-copy bandwidth probe.
//
//   npm run bench:ssm [-- --rounds 7] [--burst 30] [--threads 1] [--prefill-threads 2] [--prefill-len 2048] [--quick]
//
// Shapes (reference dossier §1.3–1.4), batch 1:
//   Mamba-2: 32 heads × headdim 128 × state 128, 32 groups of B / C (d_inner 4096): state 2 MiB per layer.
//   Mamba-1: d_inner 4096 channels × state 16, 256 groups of B / C: state 256 KiB per layer.
// What is timed (rounds of iterations; each iteration runs the copy probe and every decode / verify graph (best of
// 2 runs after a warming one) so that a busy machine slows all of them alike; per round the medians give the
// ratios; reported: the median over rounds):
//   ceiling  — a stream copy (TypedArray.set) of 64 MiB: bytes read + written per second. For reference, one ORT
//              Mul over a 2 MiB state (the least any graph that updates the state must do).
//   decode   — one decode-step graph (LinearAttention + Δ / skip in standard ops) with the state fed from and
//              written into a rotating pool of per-layer states larger than the last-level cache, as a model's
//              layers would; pre-allocated outputs. Achieved bytes/s counts what a step must move: the state read
//              and written, the parameters and per-step inputs / outputs.
//   prefill  — the LinearAttention prefill graph over L = 2048 tokens (tokens/s), and Mamba-2's chunked SSD
//              training form (standard ops) over the same tokens for comparison.
//   verify   — the one-graph multi-step verify with K drafts: ⌈(K+1)/2⌉ replayed cache slots (some drafts were
//              rejected last round) then K + 1 new steps, in the snapshot-only protocol (recommended) and the
//              oracle protocol (state + snapshot + Where), against K single decode steps.
// Results: a table, benchmarks/results/ssm.json, and the same JSON object as the last stdout line.
import * as ort from 'onnxruntime-node';
import { Graph, encodeModel, mul, type Tensor } from '@mil/graph';
import {
  mamba1DecodeStepGraph,
  mamba1MultiStepVerifyGraph,
  mamba1PrefillGraph,
  mamba2DecodeStepGraph,
  mamba2MultiStepVerifyGraph,
  mamba2PrefillGraph,
  mamba2ScanGraph,
  type Mamba2StateLayout,
} from '@mil/ssm-kernels';
import { flag, fmt, formatTable, hostInfo, median, numberFlag, reportResult, timeOnce, type Cell } from './lib/index';
import { mulberry32 } from '@mil/core';

// ---------------------------------------------------------------- configuration

// Decode / verify move one state stream each: a second intra-op thread cannot raise that, and on a shared 2-core
// machine it makes the timings fragile (a preempted worker stalls the whole node). Prefill is compute-bound.
const THREADS = numberFlag('threads', 1);
const PREFILL_THREADS = numberFlag('prefill-threads', 2);
const QUICK = flag('quick') === true;
const ROUNDS = numberFlag('rounds', QUICK ? 3 : 7);
const BURST = numberFlag('burst', QUICK ? 8 : 30); // iterations per round (each runs every graph once)
const PREFILL_ROUNDS = QUICK ? 1 : 2;
const PREFILL_L = numberFlag('prefill-len', QUICK ? 512 : 2048);
const KS = [1, 2, 4, 8];
const POOL_BYTES = 80 * 1024 * 1024; // > the 32 MiB L3 of the dev machine: states come from DRAM
const COPY_BYTES = 64 * 1024 * 1024;
const M2 = { h: 32, p: 128, n: 128, g: 32 };
const M1 = { d: 4096, n: 16, g: 256 };
const CHUNK = 256; // upstream Mamba-2 chunk size
const F32 = 4;

const log = (s = '') => process.stdout.write(s + '\n');
const rand = mulberry32(20261130);
const uniform = (n: number, lo: number, hi: number): Float32Array => Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());

// ---------------------------------------------------------------- sessions

interface Built {
  session: ort.InferenceSession;
  /** graph output name by our key */
  out: Record<string, string>;
}

/** Builds a graph, runs ORT's optimizer on it; outputs keep their tensors' names (no Identity copies). */
async function build(name: string, emit: (g: Graph) => Record<string, Tensor>, threads = THREADS): Promise<Built> {
  const g = new Graph(name);
  const outs = emit(g);
  const keys = Object.keys(outs);
  const model = g.toModel({ outputs: keys.map((k) => outs[k]) });
  const session = await ort.InferenceSession.create(encodeModel(model.spec), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  return { session, out: Object.fromEntries(keys.map((k, i) => [k, model.outputNames[i]])) };
}

const tensor = (data: Float32Array | Int32Array, dims: number[]) => new ort.Tensor(data instanceof Int32Array ? 'int32' : 'float32', data, dims);

/**
 * A pool of state buffers (ORT tensors) bigger than the last-level cache, one per state shape, shared by all
 * graphs of that shape: run i reads entry i and writes entry i + 1, as a model's successive layers would.
 */
const pools = new Map<string, ort.Tensor[]>();
function statePool(dims: number[]): ort.Tensor[] {
  const key = dims.join('x');
  const hit = pools.get(key);
  if (hit) return hit;
  const size = dims.reduce((a, b) => a * b, 1);
  const count = Math.max(4, Math.ceil(POOL_BYTES / (size * F32)));
  const pattern = uniform(Math.min(size, 1 << 16), -0.5, 0.5);
  const pool = Array.from({ length: count }, () => {
    const a = new Float32Array(size);
    for (let o = 0; o < size; o += pattern.length) a.set(pattern.subarray(0, Math.min(pattern.length, size - o)), o);
    return tensor(a, dims);
  });
  pools.set(key, pool);
  return pool;
}

// ---------------------------------------------------------------- the measured things

/** The ceiling probe: one stream copy (memcpy via TypedArray.set) of COPY_BYTES between DRAM-sized buffers; ms. */
const copySrc = new Float32Array(COPY_BYTES / F32).fill(1);
const copyDst = new Float32Array(COPY_BYTES / F32).fill(0);
function copyOnce(): number {
  const t0 = performance.now();
  copyDst.set(copySrc);
  return performance.now() - t0;
}

interface Case {
  label: string;
  /** Runs the graph once with pool index i. */
  run: (i: number) => Promise<unknown>;
  /** Bytes a step must move (for decode rows). */
  bytes?: number;
  /** Tokens processed per run (for prefill rows). */
  tokens?: number;
}

/** Mamba-2 decode step in a given state layout. */
async function mamba2Decode(layout: Mamba2StateLayout): Promise<Case> {
  const { h, p, n, g: G } = M2;
  const sd = layout === 'hpn' ? [1, h, p, n] : [1, h, n, p];
  const b = await build(`m2_decode_${layout}`, (g) => {
    const r = mamba2DecodeStepGraph(g, {
      x: g.input('x', 'float32', [1, h, p]), dt: g.input('dt', 'float32', [1, h]), B: g.input('B', 'float32', [1, G, n]),
      C: g.input('C', 'float32', [1, G, n]), A: g.input('A', 'float32', [h]), D: g.input('D', 'float32', [h]),
      dtBias: g.input('dt_bias', 'float32', [h]), state: g.input('state', 'float32', sd),
    }, { dtSoftplus: true, stateLayout: layout });
    return { y: r.y, state: r.state };
  });
  const fixed = {
    x: tensor(uniform(h * p, -1, 1), [1, h, p]), dt: tensor(uniform(h, -3, 0), [1, h]), B: tensor(uniform(G * n, -0.3, 0.3), [1, G, n]),
    C: tensor(uniform(G * n, -0.3, 0.3), [1, G, n]), A: tensor(uniform(h, -4, -1), [h]), D: tensor(uniform(h, 0.5, 1.5), [h]),
    dt_bias: tensor(uniform(h, -2, 0), [h]),
  };
  const pool = statePool(sd);
  const y = tensor(new Float32Array(h * p), [1, h, p]);
  const stateBytes = h * p * n * F32;
  const ioBytes = (2 * h * p + h + 2 * G * n + 3 * h) * F32;
  return {
    label: `Mamba-2 decode step (${layout === 'hnp' ? "ORT's (b,h,n,p) state" : '(b,h,p,n) state, 2 transposes'})`,
    bytes: 2 * stateBytes + ioBytes,
    run: (i) => b.session.run({ ...fixed, state: pool[i % pool.length] }, { [b.out.y]: y, [b.out.state]: pool[(i + 1) % pool.length] }),
  };
}

/**
 * The floor of any ORT graph that reads and writes the Mamba-2 state once: one Mul over it (same pool, same
 * pre-allocated output). Shows how much of the copy ceiling a single ORT CPU node reaches at this size.
 */
async function onePassFloor(): Promise<Case> {
  const { h, p, n } = M2;
  const sd = [1, h, n, p];
  const b = await build('one_pass', (g) => ({ state: mul(g.input('state', 'float32', sd), 0.999) }));
  const pool = statePool(sd);
  return {
    label: 'reference: one ORT Mul over the Mamba-2 state',
    bytes: 2 * h * p * n * F32,
    run: (i) => b.session.run({ state: pool[i % pool.length] }, { [b.out.state]: pool[(i + 1) % pool.length] }),
  };
}

/** Mamba-1 decode step (LinearAttention or the elementwise standard-ops update). */
async function mamba1Decode(impl: 'linear-attention' | 'standard'): Promise<Case> {
  const { d, n, g: G } = M1;
  const b = await build(`m1_decode_${impl}`, (g) => {
    const r = mamba1DecodeStepGraph(g, {
      u: g.input('u', 'float32', [1, d]), delta: g.input('delta', 'float32', [1, d]), B: g.input('B', 'float32', [1, G, n]),
      C: g.input('C', 'float32', [1, G, n]), z: g.input('z', 'float32', [1, d]), A: g.input('A', 'float32', [d, n]),
      D: g.input('D', 'float32', [d]), deltaBias: g.input('delta_bias', 'float32', [d]), state: g.input('state', 'float32', [1, d, n]),
    }, { deltaSoftplus: true, impl });
    return { y: r.y, state: r.state };
  });
  const fixed = {
    u: tensor(uniform(d, -1, 1), [1, d]), delta: tensor(uniform(d, -3, 0), [1, d]), B: tensor(uniform(G * n, -1, 1), [1, G, n]),
    C: tensor(uniform(G * n, -1, 1), [1, G, n]), z: tensor(uniform(d, -2, 2), [1, d]), A: tensor(uniform(d * n, -16, -1), [d, n]),
    D: tensor(uniform(d, 0.5, 1.5), [d]), delta_bias: tensor(uniform(d, -4, -2), [d]),
  };
  const pool = statePool([1, d, n]);
  const y = tensor(new Float32Array(d), [1, d]);
  const stateBytes = d * n * F32;
  const ioBytes = (d * n + 6 * d + 2 * G * n) * F32; // A, and u / δ / z / y / D / bias, B / C
  return {
    label: `Mamba-1 decode step (${impl === 'standard' ? 'standard ops' : 'LinearAttention'})`,
    bytes: 2 * stateBytes + ioBytes,
    run: (i) => b.session.run({ ...fixed, state: pool[i % pool.length] }, { [b.out.y]: y, [b.out.state]: pool[(i + 1) % pool.length] }),
  };
}

/** Mamba-2 prefill over L tokens: LinearAttention form, or the chunked SSD training form. */
async function mamba2Prefill(L: number, form: 'linear-attention' | 'chunked'): Promise<Case> {
  const { h, p, n, g: G } = M2;
  const b = await build(`m2_prefill_${form}`, (g) => {
    const input = {
      x: g.input('x', 'float32', [1, L, h, p]), dt: g.input('dt', 'float32', [1, L, h]), B: g.input('B', 'float32', [1, L, G, n]),
      C: g.input('C', 'float32', [1, L, G, n]), A: g.input('A', 'float32', [h]), D: g.input('D', 'float32', [h]),
      dtBias: g.input('dt_bias', 'float32', [h]), initialState: g.input('state', 'float32', [1, h, n, p]),
    };
    const r = form === 'chunked'
      ? mamba2ScanGraph(g, input, { chunkSize: CHUNK, dtSoftplus: true, stateLayout: 'hnp' })
      : mamba2PrefillGraph(g, input, { dtSoftplus: true, stateLayout: 'hnp' });
    return { y: r.y, state: r.finalState };
  }, PREFILL_THREADS);
  const feeds = {
    x: tensor(uniform(L * h * p, -1, 1), [1, L, h, p]), dt: tensor(uniform(L * h, -3, 0), [1, L, h]), B: tensor(uniform(L * G * n, -0.3, 0.3), [1, L, G, n]),
    C: tensor(uniform(L * G * n, -0.3, 0.3), [1, L, G, n]), A: tensor(uniform(h, -4, -1), [h]), D: tensor(uniform(h, 0.5, 1.5), [h]),
    dt_bias: tensor(uniform(h, -2, 0), [h]), state: tensor(uniform(h * p * n, -0.5, 0.5), [1, h, p, n]),
  };
  return { label: `Mamba-2 prefill L=${L}, ${form === 'chunked' ? `chunked SSD (training form, chunk ${CHUNK})` : 'LinearAttention'}`, tokens: L, run: () => b.session.run(feeds) };
}

/** Mamba-1 prefill over L tokens (LinearAttention form). */
async function mamba1Prefill(L: number): Promise<Case> {
  const { d, n, g: G } = M1;
  const b = await build('m1_prefill', (g) => {
    const r = mamba1PrefillGraph(g, {
      u: g.input('u', 'float32', [1, L, d]), delta: g.input('delta', 'float32', [1, L, d]), B: g.input('B', 'float32', [1, L, G, n]),
      C: g.input('C', 'float32', [1, L, G, n]), z: g.input('z', 'float32', [1, L, d]), A: g.input('A', 'float32', [d, n]),
      D: g.input('D', 'float32', [d]), deltaBias: g.input('delta_bias', 'float32', [d]), initialState: g.input('state', 'float32', [1, d, n]),
    }, { deltaSoftplus: true });
    return { y: r.y, state: r.finalState };
  }, PREFILL_THREADS);
  const feeds = {
    u: tensor(uniform(L * d, -1, 1), [1, L, d]), delta: tensor(uniform(L * d, -3, 0), [1, L, d]), B: tensor(uniform(L * G * n, -1, 1), [1, L, G, n]),
    C: tensor(uniform(L * G * n, -1, 1), [1, L, G, n]), z: tensor(uniform(L * d, -2, 2), [1, L, d]), A: tensor(uniform(d * n, -16, -1), [d, n]),
    D: tensor(uniform(d, 0.5, 1.5), [d]), delta_bias: tensor(uniform(d, -4, -2), [d]), state: tensor(uniform(d * n, -0.5, 0.5), [1, d, n]),
  };
  return { label: `Mamba-1 prefill L=${L}, LinearAttention`, tokens: L, run: () => b.session.run(feeds) };
}

/** Mamba-2 verify with K drafts (T = K + 1 new steps, K + 1 cache slots). */
async function mamba2Verify(K: number, protocol: 'snapshot-only' | 'oracle'): Promise<Case> {
  const { h, p, n, g: G } = M2;
  const T = K + 1;
  const sd = [1, h, n, p];
  const b = await build(`m2_verify_${K}_${protocol}`, (g) => {
    const r = mamba2MultiStepVerifyGraph(g, {
      x: g.input('x', 'float32', [1, T, h, p]), dt: g.input('dt', 'float32', [1, T, h]), B: g.input('B', 'float32', [1, T, G, n]),
      C: g.input('C', 'float32', [1, T, G, n]), A: g.input('A', 'float32', [h]), D: g.input('D', 'float32', [h]),
      dtBias: g.input('dt_bias', 'float32', [h]), snapshot: g.input('snapshot', 'float32', sd),
      cache: { x: g.input('cache_x', 'float32', [1, T, h, p]), dt: g.input('cache_dt', 'float32', [1, T, h]), B: g.input('cache_B', 'float32', [1, T, G, n]) },
      ...(protocol === 'oracle'
        ? { state: g.input('state', 'float32', sd), recomputeSteps: g.input('r', 'int32', [1]) }
        : { replaySteps: g.input('r', 'int32', [1]) }),
    }, { dtSoftplus: true, stateLayout: 'hnp' });
    return { y: r.y, state: r.state, snapshot: r.snapshot };
  });
  const fixed: Record<string, ort.Tensor> = {
    x: tensor(uniform(T * h * p, -1, 1), [1, T, h, p]), dt: tensor(uniform(T * h, -3, 0), [1, T, h]), B: tensor(uniform(T * G * n, -0.3, 0.3), [1, T, G, n]),
    C: tensor(uniform(T * G * n, -0.3, 0.3), [1, T, G, n]), A: tensor(uniform(h, -4, -1), [h]), D: tensor(uniform(h, 0.5, 1.5), [h]),
    dt_bias: tensor(uniform(h, -2, 0), [h]), cache_x: tensor(uniform(T * h * p, -1, 1), [1, T, h, p]), cache_dt: tensor(uniform(T * h, -3, 0), [1, T, h]),
    cache_B: tensor(uniform(T * G * n, -0.3, 0.3), [1, T, G, n]),
    // Replays ⌈T/2⌉ slots (some drafts rejected last round), one LinearAttention step each.
    r: tensor(Int32Array.of(protocol === 'oracle' ? Math.ceil(T / 2) - 1 : Math.ceil(T / 2)), [1]),
  };
  const pool = statePool(sd);
  const y = tensor(new Float32Array(T * h * p), [1, T, h, p]);
  const P = pool.length;
  return {
    label: `Mamba-2 verify K=${K} (${protocol})`,
    run: (i) => b.session.run(
      { ...fixed, snapshot: pool[i % P], ...(protocol === 'oracle' ? { state: pool[(i + 1) % P] } : {}) },
      { [b.out.y]: y, [b.out.snapshot]: pool[(i + 2) % P], [b.out.state]: pool[(i + 3) % P] },
    ),
  };
}

/** Mamba-1 verify with K drafts (snapshot-only protocol), LinearAttention or unrolled standard ops. */
async function mamba1Verify(K: number, impl: 'linear-attention' | 'standard'): Promise<Case> {
  const { d, n, g: G } = M1;
  const T = K + 1;
  const b = await build(`m1_verify_${K}_${impl}`, (g) => {
    const r = mamba1MultiStepVerifyGraph(g, {
      x: g.input('x', 'float32', [1, T, d]), delta: g.input('delta', 'float32', [1, T, d]), B: g.input('B', 'float32', [1, T, G, n]),
      C: g.input('C', 'float32', [1, T, G, n]), z: g.input('z', 'float32', [1, T, d]), A: g.input('A', 'float32', [d, n]),
      D: g.input('D', 'float32', [d]), deltaBias: g.input('delta_bias', 'float32', [d]), snapshot: g.input('snapshot', 'float32', [1, d, n]),
      cache: { x: g.input('cache_x', 'float32', [1, T, d]), delta: g.input('cache_delta', 'float32', [1, T, d]), B: g.input('cache_B', 'float32', [1, T, G, n]) },
      replaySteps: g.input('r', 'int32', [1]),
    }, { deltaSoftplus: true, impl });
    return { y: r.y, state: r.state, snapshot: r.snapshot };
  });
  const fixed: Record<string, ort.Tensor> = {
    x: tensor(uniform(T * d, -1, 1), [1, T, d]), delta: tensor(uniform(T * d, -3, 0), [1, T, d]), B: tensor(uniform(T * G * n, -1, 1), [1, T, G, n]),
    C: tensor(uniform(T * G * n, -1, 1), [1, T, G, n]), z: tensor(uniform(T * d, -2, 2), [1, T, d]), A: tensor(uniform(d * n, -16, -1), [d, n]),
    D: tensor(uniform(d, 0.5, 1.5), [d]), delta_bias: tensor(uniform(d, -4, -2), [d]), cache_x: tensor(uniform(T * d, -1, 1), [1, T, d]),
    cache_delta: tensor(uniform(T * d, -3, 0), [1, T, d]), cache_B: tensor(uniform(T * G * n, -1, 1), [1, T, G, n]), r: tensor(Int32Array.of(Math.ceil(T / 2)), [1]),
  };
  const pool = statePool([1, d, n]);
  const y = tensor(new Float32Array(T * d), [1, T, d]);
  const P = pool.length;
  return {
    label: `Mamba-1 verify K=${K} (snapshot-only, ${impl === 'standard' ? 'standard ops' : 'LinearAttention'})`,
    run: (i) => b.session.run({ ...fixed, snapshot: pool[i % P] }, { [b.out.y]: y, [b.out.snapshot]: pool[(i + 1) % P], [b.out.state]: pool[(i + 2) % P] }),
  };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  log(`bench:ssm — onnxruntime-node ${ort.env.versions.common} CPU; decode / verify ${THREADS} thread(s), prefill ${PREFILL_THREADS}; ${ROUNDS} rounds × ${BURST}${QUICK ? ' (quick)' : ''}`);
  const t0 = performance.now();
  const m2dec = await mamba2Decode('hnp');
  const m2decT = await mamba2Decode('hpn');
  const m1dec = await mamba1Decode('linear-attention');
  const m1decStd = await mamba1Decode('standard');
  const floor = await onePassFloor();
  const m2ver = new Map<number, Case>();
  const m2verO = new Map<number, Case>();
  const m1ver = new Map<number, Case>();
  const m1verStd = new Map<number, Case>();
  for (const K of KS) {
    m2ver.set(K, await mamba2Verify(K, 'snapshot-only'));
    m2verO.set(K, await mamba2Verify(K, 'oracle'));
    m1ver.set(K, await mamba1Verify(K, 'linear-attention'));
    m1verStd.set(K, await mamba1Verify(K, 'standard'));
  }
  const prefills = [await mamba2Prefill(PREFILL_L, 'linear-attention'), await mamba1Prefill(PREFILL_L), await mamba2Prefill(PREFILL_L, 'chunked')];
  const decodes = [floor, m2dec, m2decT, m1dec, m1decStd];
  const verifies = [...m2ver.values(), ...m2verO.values(), ...m1ver.values(), ...m1verStd.values()];
  log(`built ${decodes.length + verifies.length + prefills.length} graphs in ${fmt((performance.now() - t0) / 1e3)} s`);

  // Warm-up (ORT arenas, first-run allocations).
  for (const c of [...decodes, ...verifies]) for (let i = 0; i < 3; i++) await c.run(i);
  for (const c of prefills) await c.run(0);

  // Rounds of BURST iterations; each iteration runs the copy probe and every decode / verify graph once, so
  // that interference from other processes lands on all of them alike. Per round: medians, then ratios.
  const ms = new Map<Case, number[]>();
  const ceiling: number[] = [];
  const fraction = new Map<Case, number[]>();
  const verifyRatio = new Map<Case, number[]>();
  const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => m.set(k, [...(m.get(k) ?? []), v]);
  const timed = [...decodes, ...verifies];
  let iter = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const copies: number[] = [];
    const samples = new Map<Case, number[]>(timed.map((c) => [c, []]));
    for (let j = 0; j < BURST; j++, iter++) {
      copies.push(copyOnce());
      for (const c of timed) {
        // A mini-burst of 3 runs (states still rotate through the DRAM-sized pool): the first warms the code
        // and the small inputs after the other graphs and the copy evicted them; keep the better of the others.
        let best = Infinity;
        for (let k = 0; k < 3; k++) {
          const t0 = performance.now();
          await c.run(3 * iter + k);
          if (k > 0) best = Math.min(best, performance.now() - t0);
        }
        samples.get(c)!.push(best);
      }
    }
    const bw = (2 * COPY_BYTES) / (median(copies) / 1e3);
    ceiling.push(bw);
    const t = new Map<Case, number>(timed.map((c) => [c, median(samples.get(c)!)]));
    for (const c of timed) push(ms, c, t.get(c)!);
    for (const c of decodes) push(fraction, c, c.bytes! / (t.get(c)! / 1e3) / bw);
    for (const c of verifies) {
      const K = Number(/K=(\d+)/.exec(c.label)![1]);
      // Each verify against single steps of the same kind of graph.
      const single = t.get(c.label.startsWith('Mamba-2') ? m2dec : c.label.includes('standard') ? m1decStd : m1dec)!;
      push(verifyRatio, c, t.get(c)! / (K * single));
    }
    if (r < PREFILL_ROUNDS) for (const c of prefills) push(ms, c, await timeOnce(() => c.run(0)));
    process.stderr.write(`round ${r + 1}/${ROUNDS} done (${fmt((performance.now() - t0) / 1e3)} s)\n`);
  }

  const ceil = median(ceiling);
  log(`\nceiling: stream copy of ${COPY_BYTES / 2 ** 20} MiB = ${fmt(ceil / 1e9)} GB/s (read + write; median of ${ROUNDS} rounds × ${BURST})\n`);
  const rows: Cell[][] = [];
  for (const c of decodes) {
    const t = median(ms.get(c)!);
    rows.push([c.label, t, fmt(c.bytes! / 2 ** 20, 3), fmt(c.bytes! / (t / 1e3) / 1e9), median(fraction.get(c)!), null]);
  }
  for (const c of verifies) rows.push([c.label, median(ms.get(c)!), null, null, null, median(verifyRatio.get(c)!)]);
  log(formatTable(['graph', 'ms', 'MiB moved', 'GB/s', 'of ceiling', 'vs K single steps'], rows));
  const prow: Cell[][] = prefills.map((c) => {
    const t = median(ms.get(c)!);
    return [c.label, t, fmt(c.tokens! / (t / 1e3))];
  });
  log('\n' + formatTable(['prefill', 'ms', 'tokens/s'], prow));

  const m = (c: Case) => median(ms.get(c)!);
  const ratio = (c: Case) => median(verifyRatio.get(c)!);
  const perK = (map: Map<number, Case>) => Object.fromEntries(KS.map((K) => [`K${K}`, Number(ratio(map.get(K)!).toFixed(3))]));
  const decodeFraction = median(fraction.get(m2dec)!);
  const verify4 = ratio(m2ver.get(4)!);
  log(`\ndecode_fraction_of_bandwidth (Mamba-2, goal >= 0.5): ${fmt(decodeFraction)}; verify4_vs_4_single_steps (Mamba-2, goal <= 0.5): ${fmt(verify4)}`);
  reportResult({
    bench: 'ssm',
    metric: 'decode_fraction_of_bandwidth',
    value: Number(decodeFraction.toFixed(3)),
    unit: 'ratio',
    verify4_vs_4_single_steps: Number(verify4.toFixed(3)),
    goals: { decode_fraction_of_bandwidth: '>= 0.5', verify4_vs_4_single_steps: '<= 0.5' },
    ceiling_copy_gb_s: Number((ceil / 1e9).toFixed(2)),
    one_ort_node_pass_fraction: Number(median(fraction.get(floor)!).toFixed(3)),
    mamba2: {
      shape: '32 heads x 128 x 128 state, 32 groups, batch 1',
      decode_ms: Number(m(m2dec).toFixed(3)),
      decode_fraction_of_bandwidth: Number(decodeFraction.toFixed(3)),
      decode_ms_hpn_layout: Number(m(m2decT).toFixed(3)),
      decode_fraction_hpn_layout: Number(median(fraction.get(m2decT)!).toFixed(3)),
      prefill_tokens_per_s: Math.round(PREFILL_L / (m(prefills[0]) / 1e3)),
      chunked_ssd_tokens_per_s: Math.round(PREFILL_L / (m(prefills[2]) / 1e3)),
      verify_vs_k_single_steps: perK(m2ver),
      verify_vs_k_single_steps_oracle_protocol: perK(m2verO),
    },
    mamba1: {
      shape: 'd_inner 4096 x state 16, 256 groups, batch 1',
      decode_ms: Number(m(m1dec).toFixed(3)),
      decode_fraction_of_bandwidth: Number(median(fraction.get(m1dec)!).toFixed(3)),
      decode_ms_standard_ops: Number(m(m1decStd).toFixed(3)),
      decode_fraction_standard_ops: Number(median(fraction.get(m1decStd)!).toFixed(3)),
      prefill_tokens_per_s: Math.round(PREFILL_L / (m(prefills[1]) / 1e3)),
      verify_vs_k_single_steps: perK(m1ver),
      verify_vs_k_single_steps_standard_ops: perK(m1verStd),
    },
    prefill_len: PREFILL_L,
    rounds: ROUNDS,
    threads: { decode_verify: THREADS, prefill: PREFILL_THREADS },
    wall_s: Number(((performance.now() - t0) / 1e3).toFixed(1)),
    host: hostInfo(),
  });
}

await main();
