// The one float16 converter of the project (Node 20 has no Float16Array: float16 travels as Uint16Array bits).
// Exact in the float16 → float32 direction; float32 → float16 rounds to nearest even, overflows to ±Inf and keeps
// subnormals and NaN payloads.

let f16Table: Float32Array | undefined;
/** All 65536 float16 values as float32, built once (256 KiB) so conversion is one load per element. */
export function f16ToF32Table(): Float32Array {
  if (f16Table) return f16Table;
  const table = new Float32Array(65536);
  const bits = new Uint32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) table[h] = (sign ? -1 : 1) * mant * 2 ** -24; // zero and subnormals are exact in f32
    else if (exp === 31) bits[h] = sign | 0x7f800000 | (mant << 13); // Inf / NaN with payload
    else bits[h] = sign | ((exp + 112) << 23) | (mant << 13);
  }
  f16Table = table;
  return table;
}

/** One float32 (as bits) → float16 bits, round to nearest even, overflow to ±Inf, NaN stays (quiet) NaN. */
export function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const e = (x >>> 23) & 0xff;
  const m = x & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m !== 0 ? 0x200 | (m >>> 13) : 0);
  const e16 = e - 112; // rebias 127 → 15
  if (e16 >= 31) return sign | 0x7c00;
  if (e16 <= 0) {
    if (e16 < -10) return sign; // below half the smallest subnormal: ±0
    const m24 = m | 0x800000;
    const shift = 14 - e16; // 14..24 bits dropped
    let k = m24 >>> shift;
    const rem = m24 & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (k & 1) === 1)) k++;
    return sign | k; // k may reach 0x400, which is the smallest normal: still the right encoding
  }
  let h = (e16 << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry into the exponent rounds up to Inf
  return sign | h;
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/**
 * A number → float16 bits (rounded to float32 first, then to nearest-even float16).
 *
 * @example
 * float32ToFloat16Bits(1); // 0x3c00
 */
export function float32ToFloat16Bits(v: number): number {
  scratchF32[0] = v;
  return f32BitsToF16(scratchU32[0]);
}

/**
 * float16 bits → number (exact).
 *
 * @example
 * float16BitsToFloat32(0x3c00); // 1
 */
export function float16BitsToFloat32(h: number): number {
  return f16ToF32Table()[h & 0xffff];
}
