import { describe, expect, it } from 'vitest';
import { createRng } from '@mil/core';
import { GraphError, keepOnlyCudaArch, listFatbinEntries } from '../src/index';

/** A fat-binary container as nvcc lays it out: 16-byte header, then entries (64-byte header + payload). */
function container(entries: { arch: number; payload: Uint8Array; kind?: number }[]): Uint8Array {
  const size = entries.reduce((s, e) => s + 64 + e.payload.length, 0);
  const out = new Uint8Array(16 + size);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xba55ed50, true);
  v.setUint16(4, 1, true);
  v.setUint16(6, 16, true);
  v.setBigUint64(8, BigInt(size), true);
  let p = 16;
  for (const e of entries) {
    v.setUint16(p, e.kind ?? 2, true);
    v.setUint16(p + 2, 0x101, true);
    v.setUint32(p + 4, 64, true);
    v.setBigUint64(p + 8, BigInt(e.payload.length), true);
    v.setUint32(p + 28, e.arch, true);
    out.set(e.payload, p + 64);
    p += 64 + e.payload.length;
  }
  return out;
}

const rng = createRng(3);
const bytes = (n: number) => Uint8Array.from({ length: n }, () => 1 + Math.floor(rng() * 255));
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
};

describe('fat binaries', () => {
  const k80 = bytes(300), k90a = bytes(200), k120 = bytes(120), k90b = bytes(50), host = bytes(1000);
  // host code (random, may contain stray magic bytes) around two containers
  const original = concat(host, container([{ arch: 80, payload: k80 }, { arch: 90, payload: k90a }, { arch: 120, payload: k120 }]), bytes(33), container([{ arch: 90, payload: k90b }, { arch: 80, payload: bytes(70) }]), host);
  const file = () => original.slice();

  it('lists every image with its architecture and place', () => {
    const f = file();
    const e = listFatbinEntries(f);
    expect(e.map((x) => x.arch)).toEqual([80, 90, 120, 90, 80]);
    expect(e.map((x) => x.payloadSize)).toEqual([300, 200, 120, 50, 70]);
    expect(Array.from(f.subarray(e[1].offset + e[1].headerSize, e[1].offset + e[1].headerSize + 200))).toEqual(Array.from(k90a));
  });

  it('zeroes only the other architectures, leaving size, headers, host code and the kept images as they were', () => {
    const before = file();
    const f = file();
    const r = keepOnlyCudaArch(f, 90);
    expect(r).toEqual({ entries: 5, kept: 2, zeroedBytes: 300 + 120 + 70 });
    expect(f.length).toBe(before.length);
    const e = listFatbinEntries(f);
    expect(e).toEqual(listFatbinEntries(before));
    let changed = 0;
    for (let i = 0; i < f.length; i++) if (f[i] !== before[i]) changed++;
    expect(changed).toBe(300 + 120 + 70); // payload bytes are all non-zero, so every zeroed byte changed
    for (const x of e) {
      const payload = f.subarray(x.offset + x.headerSize, x.offset + x.headerSize + x.payloadSize);
      if (x.arch === 90) expect(payload.some((b) => b !== 0)).toBe(true);
      else expect(payload.every((b) => b === 0)).toBe(true);
    }
  });

  it('refuses an architecture the file has no image for, naming the ones it has', () => {
    expect(() => keepOnlyCudaArch(file(), 89)).toThrow(/no kernel image for sm_89 .*sm_80, sm_90, sm_120/);
  });

  it('refuses a container or entry that runs past its end', () => {
    const c = container([{ arch: 90, payload: bytes(40) }]);
    new DataView(c.buffer).setBigUint64(8, 10_000n, true);
    expect(() => listFatbinEntries(c)).toThrow(GraphError);
    const d = container([{ arch: 90, payload: bytes(40) }]);
    new DataView(d.buffer).setBigUint64(16 + 8, 41n, true);
    expect(() => listFatbinEntries(d)).toThrow(/does not fit in its container/);
  });
});
