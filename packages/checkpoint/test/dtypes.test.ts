import { describe, it, expect } from 'vitest';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, toFloat16, toFloat32, dtypeByteSize, isStDtype, ST_DTYPES } from '@mil/checkpoint';
import { makeRng } from './helpers/rng';

// Independent oracles: decode by the IEEE formulas in float64, round by comparing distances in float64.
function decodeBf16(b: number): number {
  const sign = b & 0x8000 ? -1 : 1;
  const e = (b >> 7) & 0xff;
  const m = b & 0x7f;
  if (e === 0) return sign * m * 2 ** -133;
  if (e === 255) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 128) * 2 ** (e - 127);
}
function decodeF16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}
/** Magnitude as if the exponent kept going past the top (the IEEE rule for rounding into Inf). */
function magnitudeBeyond(bits: number, mantBits: number, bias: number): number {
  const e = bits >> mantBits;
  const m = bits & ((1 << mantBits) - 1);
  return e === 0 ? m * 2 ** (1 - bias - mantBits) : (1 + m / 2 ** mantBits) * 2 ** (e - bias);
}
function nearestEven(x: number, lowBits: number, mantBits: number, bias: number, infBits: number): number {
  const ax = Math.abs(x);
  const a = lowBits;
  const va = magnitudeBeyond(a, mantBits, bias);
  const vb = magnitudeBeyond(a + 1, mantBits, bias);
  if (!(va <= ax && ax < vb)) throw new Error(`oracle bracket broken for ${x}`);
  const da = ax - va;
  const db = vb - ax;
  const pick = da < db ? a : db < da ? a + 1 : a % 2 === 0 ? a : a + 1;
  return Math.min(pick, infBits);
}
function oracleBf16(x: number): number {
  if (Number.isNaN(x)) return 0x7fc0;
  const u = new Uint32Array(new Float32Array([x]).buffer)[0];
  const sign = u >>> 31 ? 0x8000 : 0;
  if (Math.abs(x) === Infinity) return sign | 0x7f80;
  return sign | nearestEven(x, (u & 0x7fffffff) >>> 16, 7, 127, 0x7f80);
}
const F16_MAGNITUDES = Array.from({ length: 0x7c01 }, (_, h) => magnitudeBeyond(h, 10, 15));
function oracleF16(x: number): number {
  const sign = Object.is(x, -0) || x < 0 ? 0x8000 : 0;
  if (Math.abs(x) === Infinity) return sign | 0x7c00;
  const ax = Math.abs(x);
  if (ax >= F16_MAGNITUDES[0x7c00]) return sign | 0x7c00;
  let lo = 0;
  let hi = 0x7c00; // invariant: F16_MAGNITUDES[lo] <= ax < F16_MAGNITUDES[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (F16_MAGNITUDES[mid] <= ax) lo = mid;
    else hi = mid;
  }
  return sign | nearestEven(ax, lo, 10, 15, 0x7c00);
}

function randomF32(rng: ReturnType<typeof makeRng>, n: number): Float32Array {
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = rng.u32();
  return new Float32Array(bits.buffer);
}

describe('dtype sizes', () => {
  it('knows every supported dtype and rejects others', () => {
    expect(ST_DTYPES.map(dtypeByteSize)).toEqual([8, 8, 4, 4, 2, 2, 2, 1, 1, 1]);
    expect(isStDtype('BF16')).toBe(true);
    expect(isStDtype('F8_E4M3')).toBe(false);
    expect(isStDtype('toString')).toBe(false);
  });
});

describe('bfloat16', () => {
  it('widens all 65536 bit patterns exactly', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const f = bf16ToF32(all);
    const bad: number[] = [];
    for (let b = 0; b < 65536; b++) {
      const want = decodeBf16(b);
      if (Number.isNaN(want) ? !Number.isNaN(f[b]) : !Object.is(f[b], want)) bad.push(b);
    }
    expect(bad).toEqual([]);
  });

  it('rounds float32 to nearest even like the float64 oracle (random bits, ties, overflow, NaN)', () => {
    const rng = makeRng(1);
    const xs = Array.from(randomF32(rng, 20000));
    for (let i = 0; i < 2000; i++) {
      // exact ties: low 16 bits = 0x8000 with both parities of the kept part
      const u = (rng.u32() & 0xffff0000) | 0x8000;
      xs.push(new Float32Array(new Uint32Array([u]).buffer)[0]);
    }
    xs.push(3.4028234663852886e38, -3.4028234663852886e38, 3.3961e38, 1e-45, -0, 0, Infinity, -Infinity, NaN, 1, 3.14159);
    const got = f32ToBf16(new Float32Array(xs));
    const bad = xs.filter((x, i) => got[i] !== oracleBf16(Math.fround(x)));
    expect(bad).toEqual([]);
    expect(Array.from(f32ToBf16(new Float32Array([1, 3.14159])))).toEqual([0x3f80, 0x4049]);
  });

  it('round-trips every non-NaN bf16 through float32', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = f32ToBf16(bf16ToF32(all));
    const bad: number[] = [];
    for (let b = 0; b < 65536; b++) if (back[b] !== ((b & 0x7f80) === 0x7f80 && b & 0x7f ? 0x7fc0 : b)) bad.push(b);
    expect(bad).toEqual([]);
  });
});

describe('float16', () => {
  it('widens all 65536 bit patterns exactly', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const f = f16ToF32(all);
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const want = decodeF16(h);
      if (Number.isNaN(want) ? !Number.isNaN(f[h]) : !Object.is(f[h], want)) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  it('rounds float32 to nearest even like the float64 oracle (random, subnormals, ties, overflow)', () => {
    const rng = makeRng(2);
    const xs: number[] = [];
    for (const x of randomF32(rng, 20000)) xs.push(x);
    // values in f16 range, incl. subnormals: random exponent in [-26, 16]
    for (let i = 0; i < 20000; i++) xs.push((rng.next() * 2 - 1) * 2 ** (rng.int(43) - 26));
    // exact midpoints between neighbouring f16 values (representable in f32)
    for (let i = 0; i < 5000; i++) {
      const h = rng.int(0x7bff);
      xs.push(((F16_MAGNITUDES[h] + F16_MAGNITUDES[h + 1]) / 2) * (rng.next() < 0.5 ? -1 : 1));
    }
    xs.push(65504, 65519.99, 65520, 65536, 1e10, 2 ** -25, 2 ** -24, 1.5 * 2 ** -25, 2 ** -26, -0, 0, Infinity, -Infinity);
    const src = new Float32Array(xs);
    const got = f32ToF16(src);
    const bad = Array.from(src).filter((x, i) =>
      Number.isNaN(x) ? !((got[i] & 0x7c00) === 0x7c00 && (got[i] & 0x3ff) !== 0) : got[i] !== oracleF16(x),
    );
    expect(bad).toEqual([]);
  });

  it('round-trips every non-NaN f16 through float32', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = f32ToF16(f16ToF32(all));
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const isNaN16 = (h & 0x7c00) === 0x7c00 && h & 0x3ff;
      if (isNaN16 ? (back[h] & 0x7e00) !== 0x7e00 : back[h] !== h) bad.push(h);
    }
    expect(bad).toEqual([]);
  });
});

describe('generic conversions', () => {
  it('toFloat32 / toFloat16 agree with the element-wise definitions for every dtype', () => {
    const rng = makeRng(3);
    const n = 257;
    const vals = Array.from({ length: n }, () => Math.round((rng.next() * 2 - 1) * 1000));
    const cases: [Parameters<typeof toFloat32>[0], Parameters<typeof toFloat32>[1]][] = [
      ['F64', new Float64Array(vals.map((v) => v / 7))],
      ['F32', new Float32Array(vals.map((v) => v / 7))],
      ['I64', new BigInt64Array(vals.map((v) => BigInt(v) * 1000000007n))],
      ['I32', new Int32Array(vals)],
      ['I16', new Int16Array(vals)],
      ['I8', new Int8Array(vals.map((v) => v % 128))],
      ['U8', new Uint8Array(vals.map((v) => Math.abs(v) % 256))],
      ['BOOL', new Uint8Array(vals.map((v) => (v > 0 ? 1 : 0)))],
    ];
    for (const [dtype, raw] of cases) {
      const f = toFloat32(dtype, raw);
      const h = toFloat16(dtype, raw);
      for (let i = 0; i < n; i++) {
        const v = typeof raw[i] === 'bigint' ? Number(raw[i]) : (raw[i] as number);
        expect(f[i]).toBe(Math.fround(v));
        expect(h[i]).toBe(oracleF16(Math.fround(v)));
      }
    }
  });

  it('checks the length of a caller-given output array', () => {
    expect(() => bf16ToF32(new Uint16Array(3), new Float32Array(2))).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });
});
