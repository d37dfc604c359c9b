import { describe, it, expect } from 'vitest';
import { groupQueryAttention, type GroupQueryAttentionArgs } from './contrib-oracles';
import { expectClose, randomFloats, runSingleNode, type Feed } from './contrib-oracles-harness';
import { mulberry32 } from '@mil/core';

const N = 4;
const NKV = 2;
const MAX_SEQ = 64;

interface Case {
  B: number;
  S: number;
  /** Past buffer length P (0 = no past inputs). */
  past: number;
  seqlens: number[];
  total: number;
  H?: number;
  packed?: boolean;
  rotary?: boolean;
  interleaved?: boolean;
  /** cos/sin cache dim 1 (rotary dim / 2); default H/2. */
  half?: number;
  scale?: number;
  softcap?: number;
  window?: number;
  smooth?: boolean;
  sink?: boolean;
  bias?: boolean;
  positionIds?: number[];
}

function ropeCaches(half: number, rotaryDim: number): { cos: Float32Array; sin: Float32Array } {
  const cos = new Float32Array(MAX_SEQ * half);
  const sin = new Float32Array(MAX_SEQ * half);
  for (let p = 0; p < MAX_SEQ; p++)
    for (let i = 0; i < half; i++) {
      const th = p * 10000 ** ((-2 * i) / rotaryDim);
      cos[p * half + i] = Math.cos(th);
      sin[p * half + i] = Math.sin(th);
    }
  return { cos, sin };
}

async function check(c: Case, seed: number): Promise<void> {
  const rng = mulberry32(seed);
  const H = c.H ?? 16;
  const { B, S } = c;
  const half = c.half ?? H / 2;
  const query = randomFloats(rng, B * S * (c.packed ? N + 2 * NKV : N) * H);
  const key = c.packed ? undefined : randomFloats(rng, B * S * NKV * H);
  const value = c.packed ? undefined : randomFloats(rng, B * S * NKV * H);
  const pastKey = c.past ? randomFloats(rng, B * NKV * c.past * H) : undefined;
  const pastValue = c.past ? randomFloats(rng, B * NKV * c.past * H) : undefined;
  const { cos, sin } = ropeCaches(half, 2 * half);
  const headSink = c.sink ? randomFloats(rng, N) : undefined;
  const biasShape = [B, 1, S, c.total] as const;
  const attentionBias = c.bias ? randomFloats(rng, B * S * c.total) : undefined;
  const positionIds = c.positionIds ? BigInt64Array.from(c.positionIds, BigInt) : undefined;
  const f32 = (name: string, dims: number[], data: Float32Array): Feed => ({ name, dtype: 'float32', dims, data });
  const inputs: (Feed | null)[] = [
    f32('query', [B, S, query.length / (B * S)], query),
    key ? f32('key', [B, S, NKV * H], key) : null,
    value ? f32('value', [B, S, NKV * H], value) : null,
    pastKey ? f32('past_key', [B, NKV, c.past, H], pastKey) : null,
    pastValue ? f32('past_value', [B, NKV, c.past, H], pastValue) : null,
    { name: 'seqlens_k', dtype: 'int32', dims: [B], data: Int32Array.from(c.seqlens) },
    { name: 'total_sequence_length', dtype: 'int32', dims: [], data: new Int32Array([c.total]) },
    c.rotary ? f32('cos_cache', [MAX_SEQ, half], cos) : null,
    c.rotary ? f32('sin_cache', [MAX_SEQ, half], sin) : null,
    positionIds ? { name: 'position_ids', dtype: 'int64', dims: [B, S], data: positionIds } : null,
    attentionBias ? f32('attention_bias', [...biasShape], attentionBias) : null,
    headSink ? f32('head_sink', [N], headSink) : null,
  ];
  while (inputs[inputs.length - 1] === null) inputs.pop();
  const attrs: Record<string, { type: 'int'; value: number } | { type: 'float'; value: number }> = {
    num_heads: { type: 'int', value: N },
    kv_num_heads: { type: 'int', value: NKV },
  };
  if (c.rotary) attrs.do_rotary = { type: 'int', value: 1 };
  if (c.interleaved) attrs.rotary_interleaved = { type: 'int', value: 1 };
  if (c.scale) attrs.scale = { type: 'float', value: c.scale };
  if (c.softcap) attrs.softcap = { type: 'float', value: c.softcap };
  if (c.window) attrs.local_window_size = { type: 'int', value: c.window };
  if (c.smooth) attrs.smooth_softmax = { type: 'int', value: 1 };
  const r = await runSingleNode('GroupQueryAttention', 'com.microsoft', inputs, [['output', 3], ['present_key', 4], ['present_value', 4]], attrs);

  const args: GroupQueryAttentionArgs = {
    batchSize: B, sequenceLength: S, numHeads: N, kvNumHeads: NKV, headSize: H,
    query, key, value, pastKey, pastValue, seqlensK: c.seqlens, totalSequenceLength: c.total,
    doRotary: c.rotary, rotaryInterleaved: c.interleaved, cosCache: cos, sinCache: sin, cacheHalfDim: half,
    scale: c.scale, softcap: c.softcap, localWindowSize: c.window, smoothSoftmax: c.smooth, headSink,
    attentionBias, attentionBiasShape: biasShape, positionIds,
  };
  const ref = groupQueryAttention(args);
  expect(r.present_key.dims).toEqual([B, NKV, ref.presentLength, H]);
  expect(r.output.dims).toEqual([B, S, N * H]);
  // Rows of right-padding tokens of a first prompt are unspecified in ORT; compare valid rows only.
  const validRow = (i: number): boolean => {
    const b = Math.floor(i / (S * N * H));
    const s = Math.floor(i / (N * H)) % S;
    const past = S === c.total ? 0 : c.seqlens[b] + 1 - S;
    return past + s <= c.seqlens[b];
  };
  expectClose('output', r.output.data as Float32Array, ref.output, { mask: validRow });
  expectClose('present_key', r.present_key.data as Float32Array, ref.presentKey);
  expectClose('present_value', r.present_value.data as Float32Array, ref.presentValue);
}

describe('GroupQueryAttention oracle = onnxruntime CPU (num_heads=4, kv_num_heads=2)', () => {
  const cases: [string, Case][] = [
    ['first prompt, no rotary', { B: 1, S: 5, past: 0, seqlens: [4], total: 5 }],
    ['first prompt, rotary rotate-half', { B: 2, S: 5, past: 0, seqlens: [4, 4], total: 5, rotary: true }],
    ['first prompt, rotary interleaved', { B: 1, S: 5, past: 0, seqlens: [4], total: 5, rotary: true, interleaved: true }],
    ['first prompt, packed QKV, rotary', { B: 2, S: 5, past: 0, seqlens: [4, 4], total: 5, rotary: true, packed: true }],
    ['first prompt, right-padded batch entry', { B: 2, S: 5, past: 0, seqlens: [4, 2], total: 5, rotary: true }],
    ['first prompt into a larger (max-length) past buffer', { B: 1, S: 5, past: 16, seqlens: [4], total: 5, rotary: true }],
    ['decode with past, no rotary', { B: 1, S: 1, past: 5, seqlens: [5], total: 6 }],
    ['decode with past, rotary rotate-half', { B: 2, S: 1, past: 5, seqlens: [5, 5], total: 6, rotary: true }],
    ['decode with past, rotary interleaved', { B: 1, S: 1, past: 5, seqlens: [5], total: 6, rotary: true, interleaved: true }],
    ['decode, ragged batch (seqlens 5 and 3)', { B: 2, S: 1, past: 5, seqlens: [5, 3], total: 6, rotary: true }],
    ['decode, packed QKV', { B: 1, S: 1, past: 5, seqlens: [5], total: 6, rotary: true, packed: true }],
    ['decode into a static buffer (P=12 > total)', { B: 1, S: 1, past: 12, seqlens: [5], total: 6, rotary: true }],
    ['multi-token (verify) with past', { B: 1, S: 3, past: 5, seqlens: [7], total: 8, rotary: true }],
    ['multi-token into a static buffer', { B: 1, S: 3, past: 16, seqlens: [7], total: 8, rotary: true, interleaved: true }],
    ['explicit scale', { B: 1, S: 4, past: 0, seqlens: [3], total: 4, scale: 0.5 }],
    ['softcap', { B: 1, S: 4, past: 0, seqlens: [3], total: 4, softcap: 0.7 }],
    ['local_window_size=2 (prompt)', { B: 1, S: 7, past: 0, seqlens: [6], total: 7, window: 2 }],
    ['local_window_size=3 (decode)', { B: 1, S: 1, past: 8, seqlens: [8], total: 9, window: 3, rotary: true }],
    ['smooth_softmax', { B: 1, S: 4, past: 0, seqlens: [3], total: 4, smooth: true }],
    ['head_sink', { B: 1, S: 4, past: 0, seqlens: [3], total: 4, sink: true }],
    ['attention_bias with softcap (cap first, then bias)', { B: 1, S: 4, past: 0, seqlens: [3], total: 4, bias: true, softcap: 0.7 }],
    ['position_ids override the rotary positions', { B: 1, S: 2, past: 5, seqlens: [6], total: 7, rotary: true, positionIds: [9, 11] }],
    ['partial rotary (cache dim 8 of head 32)', { B: 1, S: 1, past: 6, seqlens: [6], total: 7, H: 32, half: 8, rotary: true, interleaved: true }],
  ];
  cases.forEach(([label, c], i) => {
    it(label, () => check(c, 100 + i));
  });

  it('multi-token steps on a cache need batch 1: ORT and the oracle both refuse batch 2', async () => {
    await expect(check({ B: 2, S: 3, past: 8, seqlens: [7, 7], total: 8, rotary: true }, 99)).rejects.toThrow(
      /batch_size must be 1 when sequence_length > 1 and past context is given/,
    );
    expect(() =>
      groupQueryAttention({
        batchSize: 2, sequenceLength: 3, numHeads: N, kvNumHeads: NKV, headSize: 16,
        query: new Float32Array(2 * 3 * N * 16), key: new Float32Array(2 * 3 * NKV * 16), value: new Float32Array(2 * 3 * NKV * 16),
        pastKey: new Float32Array(2 * NKV * 8 * 16), pastValue: new Float32Array(2 * NKV * 8 * 16), seqlensK: [7, 7], totalSequenceLength: 8,
      }),
    ).toThrow(/batch_size must be 1/);
  });
});
