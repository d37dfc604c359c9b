// GGUF export pieces against independent oracles: a GGUF reader written here from the format description, ggml's
// Q8_0 arithmetic on hand-worked blocks, and RoPE (HF rotate-half vs llama.cpp interleaved) on random projections.
import { describe, it, expect } from 'vitest';
import { createRng } from '@mil/core';
import { float16BitsToFloat32 } from '@mil/core';
import { encodeGguf, quantizeQ8_0, dequantizeQ8_0, encodeGgml, permuteRopeRows, ggufTokenizer, GGUF_TOKEN_TYPE, type GgufValue } from '../src/index';

/** Minimal GGUF v3 reader (the oracle): header, metadata, tensor infos, data offsets. */
function readGguf(b: Uint8Array) {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let o = 0;
  const u32 = () => ((o += 4), v.getUint32(o - 4, true));
  const u64 = () => ((o += 8), Number(v.getBigUint64(o - 8, true)));
  const str = () => {
    const n = u64();
    o += n;
    return new TextDecoder().decode(b.subarray(o - n, o));
  };
  const scalar = (t: number): unknown => {
    switch (t) {
      case 0: return (o += 1), v.getUint8(o - 1);
      case 1: return (o += 1), v.getInt8(o - 1);
      case 4: return u32();
      case 5: return (o += 4), v.getInt32(o - 4, true);
      case 6: return (o += 4), v.getFloat32(o - 4, true);
      case 7: return (o += 1), v.getUint8(o - 1) === 1;
      case 8: return str();
      case 10: return u64();
      case 12: return (o += 8), v.getFloat64(o - 8, true);
      default: throw new Error(`oracle: type ${t}`);
    }
  };
  expect(new TextDecoder().decode(b.subarray(0, 4))).toBe('GGUF');
  o = 4;
  const version = u32();
  const nt = u64();
  const nkv = u64();
  const md: Record<string, unknown> = {};
  for (let i = 0; i < nkv; i++) {
    const k = str();
    const t = u32();
    if (t === 9) {
      const et = u32();
      const n = u64();
      md[k] = Array.from({ length: n }, () => scalar(et));
    } else md[k] = scalar(t);
  }
  const tensors = [];
  for (let i = 0; i < nt; i++) {
    const name = str();
    const nd = u32();
    const ne = Array.from({ length: nd }, () => u64());
    tensors.push({ name, ne, type: u32(), offset: u64() });
  }
  const align = (md['general.alignment'] as number | undefined) ?? 32;
  const dataStart = Math.ceil(o / align) * align;
  return { version, md, tensors, dataStart };
}

describe('encodeGguf', () => {
  it('round-trips metadata of every kind and aligns tensor data (checked by an independent reader)', () => {
    const rng = createRng(7);
    const a = Float32Array.from({ length: 96 }, () => rng() * 2 - 1);
    const bvec = Float32Array.from({ length: 5 }, () => rng());
    const metadata: [string, GgufValue][] = [
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['x.u32', { type: 'uint32', value: 4000000000 }],
      ['x.i32', { type: 'int32', value: -7 }],
      ['x.f32', { type: 'float32', value: 1e-5 }],
      ['x.bool', { type: 'bool', value: true }],
      ['x.u64', { type: 'uint64', value: 2n ** 40n }],
      ['x.strs', { type: 'array', itemType: 'string', value: ['▁the', '<0x0A>', 'é'] }],
      ['x.f32s', { type: 'array', itemType: 'float32', value: [0, -1.5, -1704] }],
      ['x.i32s', { type: 'array', itemType: 'int32', value: [1, 6, 3] }],
    ];
    for (const alignment of [32, 64]) {
      const bytes = encodeGguf({
        metadata,
        alignment,
        tensors: [
          { name: 'vec', ne: [5], type: 'F32', data: encodeGgml(bvec, 'F32') },
          { name: 'mat.q8', ne: [32, 3], type: 'Q8_0', data: encodeGgml(a, 'Q8_0') },
          { name: 'mat.f16', ne: [48, 2], type: 'F16', data: encodeGgml(a, 'F16') },
        ],
      });
      const r = readGguf(bytes);
      expect(r.version).toBe(3);
      expect(r.md['x.u32']).toBe(4000000000);
      expect(r.md['x.i32']).toBe(-7);
      expect(r.md['x.f32']).toBeCloseTo(1e-5, 10);
      expect(r.md['x.bool']).toBe(true);
      expect(r.md['x.u64']).toBe(2 ** 40);
      expect(r.md['x.strs']).toEqual(['▁the', '<0x0A>', 'é']);
      expect(r.md['x.f32s']).toEqual([0, -1.5, -1704]);
      if (alignment !== 32) expect(r.md['general.alignment']).toBe(alignment);
      expect(r.tensors.map((t) => [t.name, t.ne, t.type])).toEqual([['vec', [5], 0], ['mat.q8', [32, 3], 8], ['mat.f16', [48, 2], 1]]);
      for (const t of r.tensors) expect((r.dataStart + t.offset) % alignment).toBe(0);
      const vec = new Float32Array(bytes.slice(r.dataStart + r.tensors[0].offset, r.dataStart + r.tensors[0].offset + 20).buffer);
      expect(Array.from(vec)).toEqual(Array.from(bvec));
      const q = bytes.subarray(r.dataStart + r.tensors[1].offset, r.dataStart + r.tensors[1].offset + 3 * 34);
      const deq = dequantizeQ8_0(q);
      for (let i = 0; i < 96; i++) expect(Math.abs(deq[i] - a[i])).toBeLessThanOrEqual(1 / 127 / 2 + 1e-3);
      const h = new DataView(bytes.buffer, bytes.byteOffset + r.dataStart + r.tensors[2].offset);
      for (let i = 0; i < 96; i++) expect(float16BitsToFloat32(h.getUint16(2 * i, true))).toBeCloseTo(a[i], 3);
      expect(bytes.length).toBe(r.dataStart + r.tensors[2].offset + 96 * 2);
    }
  });

  it('refuses a tensor whose byte size does not match its type and shape, and duplicate keys', () => {
    expect(() => encodeGguf({ metadata: [], tensors: [{ name: 'w', ne: [32, 2], type: 'Q8_0', data: new Uint8Array(64) }] })).toThrow(/w \(Q8_0 \[32,2\]\) has 64 bytes, expected 68/);
    expect(() => encodeGguf({ metadata: [], tensors: [{ name: 'w', ne: [20], type: 'Q8_0', data: new Uint8Array(34) }] })).toThrow(/multiple of 32/);
    const k: [string, GgufValue] = ['a', { type: 'uint32', value: 1 }];
    expect(() => encodeGguf({ metadata: [k, k], tensors: [] })).toThrow(/a appears twice/);
  });
});

describe('Q8_0', () => {
  it('matches ggml on a hand-worked block: scale amax/127 as f16, round half away from zero', () => {
    const x = new Float32Array(32);
    x[0] = 127; // amax → d = 1 exactly
    x[1] = 2.5; // → 3 (half away from zero; banker's rounding would give 2)
    x[2] = -2.5; // → -3
    x[3] = 0.49;
    x[4] = -127;
    x[5] = 63.5; // → 64
    const q = quantizeQ8_0(x);
    expect(q.length).toBe(34);
    const v = new DataView(q.buffer);
    expect(v.getUint16(0, true)).toBe(0x3c00); // f16 1.0
    expect([1, 2, 3, 4, 5, 6, 7].map((i) => v.getInt8(1 + i))).toEqual([127, 3, -3, 0, -127, 64, 0]);
    expect(Array.from(quantizeQ8_0(new Float32Array(32)))).toEqual(new Array(34).fill(0)); // all-zero block: d = 0, no NaN
  });

  it('dequantizes within half a step of random inputs', () => {
    const rng = createRng(3);
    const x = Float32Array.from({ length: 32 * 50 }, () => (rng() - 0.5) * 10 ** (rng() * 4 - 2));
    const d = dequantizeQ8_0(quantizeQ8_0(x));
    for (let b = 0; b < 50; b++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]));
      for (let j = 0; j < 32; j++) expect(Math.abs(d[b * 32 + j] - x[b * 32 + j])).toBeLessThanOrEqual((amax / 127) * 0.5 * 1.01 + amax * 1e-3);
    }
  });
});

describe('permuteRopeRows', () => {
  it('HF rotate-half RoPE on q·k equals llama.cpp interleaved RoPE on the permuted projections', () => {
    const rng = createRng(11);
    const heads = 3, hd = 8, d = 5, half = hd / 2, theta = 10000;
    const wq = Float32Array.from({ length: heads * hd * d }, () => rng() - 0.5);
    const wk = Float32Array.from({ length: heads * hd * d }, () => rng() - 0.5);
    const proj = (w: Float32Array, x: number[]) => Array.from({ length: heads * hd }, (_, r) => x.reduce((s, xv, c) => s + w[r * d + c] * xv, 0));
    const rotHalf = (v: number[], p: number) => v.map((_, i) => {
      const h = Math.floor(i / hd), j = i % hd, k = j % half, f = p / theta ** ((2 * k) / hd);
      const a = v[h * hd + k], b = v[h * hd + k + half];
      return j < half ? a * Math.cos(f) - b * Math.sin(f) : b * Math.cos(f) + a * Math.sin(f);
    });
    const rotInterleaved = (v: number[], p: number) => v.map((_, i) => {
      const h = Math.floor(i / hd), j = i % hd, k = j >> 1, f = p / theta ** ((2 * k) / hd);
      const a = v[h * hd + 2 * k], b = v[h * hd + 2 * k + 1];
      return j % 2 === 0 ? a * Math.cos(f) - b * Math.sin(f) : b * Math.cos(f) + a * Math.sin(f);
    });
    const pq = permuteRopeRows(wq, heads, hd, d);
    const pk = permuteRopeRows(wk, heads, hd, d);
    expect(Array.from(pq.subarray(d, 2 * d))).toEqual(Array.from(wq.subarray(half * d, (half + 1) * d))); // row 1 ← row half
    for (const [p1, p2] of [[0, 0], [3, 1], [17, 9]]) {
      const x1 = Array.from({ length: d }, () => rng() - 0.5), x2 = Array.from({ length: d }, () => rng() - 0.5);
      const hf = [rotHalf(proj(wq, x1), p1), rotHalf(proj(wk, x2), p2)];
      const cpp = [rotInterleaved(proj(pq, x1), p1), rotInterleaved(proj(pk, x2), p2)];
      for (let h = 0; h < heads; h++) {
        let s1 = 0, s2 = 0;
        for (let j = 0; j < hd; j++) (s1 += hf[0][h * hd + j] * hf[1][h * hd + j]), (s2 += cpp[0][h * hd + j] * cpp[1][h * hd + j]);
        expect(s2).toBeCloseTo(s1, 5);
      }
    }
  });
});

describe('ggufTokenizer', () => {
  it('scores each merge result by −rank and types specials, bytes and normal pieces', () => {
    const tj = {
      normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }] },
      pre_tokenizer: null,
      added_tokens: [{ id: 0, content: '<unk>', special: true }, { id: 1, content: '<s>', special: true }],
      model: { type: 'BPE', byte_fallback: true, unk_token: '<unk>', vocab: { '<unk>': 0, '<s>': 1, '<0x41>': 2, '▁': 3, t: 4, h: 5, '▁t': 6, '▁th': 7 }, merges: ['▁ t', '▁t h'] },
    };
    const t = ggufTokenizer(tj, { bos_token: '<s>', add_bos_token: true });
    expect(t.tokens).toEqual(['<unk>', '<s>', '<0x41>', '▁', 't', 'h', '▁t', '▁th']);
    expect(t.scores).toEqual([0, 0, 0, 0, 0, 0, 0, -1]);
    expect(t.types).toEqual([GGUF_TOKEN_TYPE.UNKNOWN, GGUF_TOKEN_TYPE.CONTROL, GGUF_TOKEN_TYPE.BYTE, 1, 1, 1, 1, 1]);
    const md = Object.fromEntries(t.metadata);
    expect(md['tokenizer.ggml.bos_token_id']).toEqual({ type: 'uint32', value: 1 });
    expect(md['tokenizer.ggml.unknown_token_id']).toEqual({ type: 'uint32', value: 0 });
    expect(() => ggufTokenizer({ ...tj, model: { ...tj.model, byte_fallback: false } })).toThrow(/SentencePiece-style BPE/);
    expect(() => ggufTokenizer(tj, { bos_token: '<bos>' })).toThrow(/bos_token "<bos>" is not in/);
  });
});
