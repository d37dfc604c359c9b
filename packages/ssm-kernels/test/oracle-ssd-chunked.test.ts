import { describe, it, expect } from 'vitest';
import { mamba2Scan, ssdChunked, SsmKernelError } from '../src/index';
import { uniform, expectClose, expectSame, mamba2Problem, handMamba2Case } from './oracle-helpers';
import { mulberry32 } from '@mil/core';

describe('ssdChunked oracle (chunked SSD)', () => {
  it('matches a hand-computed case (1 head, p = 2, n = 2, 2 steps) for chunk sizes 1, 2, 3', () => {
    const hand = handMamba2Case();
    for (const chunkSize of [1, 2, 3]) {
      const res = ssdChunked({ ...hand.input, chunkSize });
      expectClose(res.y, hand.y, 1e-14);
      expectClose(res.finalState, hand.finalState, 1e-14);
    }
  });

  it('equals the sequential scan for many (L, chunkSize), incl. L = 1, L not a multiple, chunk > L (float64)', () => {
    let cases = 0;
    for (const L of [1, 2, 5, 8, 13]) {
      for (const Q of [1, 2, 3, 4, 8, 16]) {
        const q = mamba2Problem(100 + L * 31 + Q, 2, L, 4, 3, 5, 2, Float64Array);
        const seq = mamba2Scan(q);
        const chk = ssdChunked({ ...q, chunkSize: Q });
        expect(chk.y).toBeInstanceOf(Float64Array);
        expectClose(chk.y, seq.y, 1e-12, 1e-11);
        expectClose(chk.finalState, seq.finalState, 1e-12, 1e-11);
        cases++;
      }
    }
    expect(cases).toBe(30);
  });

  it('handles every optional part: no z / D / bias / initial state, D per (head, row), dtLimit', () => {
    const q = mamba2Problem(7, 1, 11, 2, 4, 3, 1, Float64Array);
    const variants = [
      { ...q, z: undefined, D: undefined, dtBias: undefined, initialState: undefined },
      { ...q, D: uniform(mulberry32(3), 2 * 4, -1, 1) },
      { ...q, dtLimit: [0.1, 0.6] as [number, number] },
      { ...q, dtSoftplus: false, dt: q.dt.map((v) => Math.abs(v)) },
    ];
    for (const v of variants) {
      const seq = mamba2Scan(v);
      const chk = ssdChunked({ ...v, chunkSize: 4 });
      expectClose(chk.y, seq.y, 1e-12, 1e-11);
      expectClose(chk.finalState, seq.finalState, 1e-12, 1e-11);
    }
  });

  it('float32 mode: close to the sequential float32 scan and returns Float32Arrays', () => {
    const q = mamba2Problem(8, 2, 37, 4, 8, 16, 2, Float32Array);
    const seq = mamba2Scan(q);
    for (const Q of [8, 16, 64]) {
      const chk = ssdChunked({ ...q, chunkSize: Q });
      expect(chk.finalState).toBeInstanceOf(Float32Array);
      expectClose(chk.y, seq.y, 2e-5, 2e-4);
      expectClose(chk.finalState, seq.finalState, 2e-5, 2e-4);
    }
  });

  it('stays accurate with extreme decays (large Δ·A within a chunk)', () => {
    const q = mamba2Problem(9, 1, 24, 2, 2, 3, 1, Float64Array);
    q.dt = uniform(mulberry32(10), 24 * 2, -30, 40); // mixes Δ ≈ 0 and Δ = 40 (beyond the softplus threshold)
    q.A = Float64Array.of(-8, -0.5);
    const seq = mamba2Scan(q);
    const chk = ssdChunked({ ...q, chunkSize: 8 });
    expectClose(chk.y, seq.y, 1e-11, 1e-10);
    expectClose(chk.finalState, seq.finalState, 1e-11, 1e-10);
  });

  it('carries state across calls like the scan (chunked in pieces == whole)', () => {
    const q = mamba2Problem(12, 1, 10, 2, 2, 2, 1, Float64Array);
    const whole = ssdChunked({ ...q, chunkSize: 4 });
    const first = ssdChunked({
      ...q, seqLen: 6, chunkSize: 4, x: q.x.subarray(0, 24), dt: q.dt.subarray(0, 12), B: q.B.subarray(0, 12),
      C: q.C.subarray(0, 12), z: q.z!.subarray(0, 24),
    });
    const second = ssdChunked({
      ...q, seqLen: 4, chunkSize: 4, initialState: first.finalState, x: q.x.subarray(24), dt: q.dt.subarray(12),
      B: q.B.subarray(12), C: q.C.subarray(12), z: q.z!.subarray(24),
    });
    expectClose([...first.y, ...second.y], whole.y, 1e-12, 1e-11);
    expectClose(second.finalState, whole.finalState, 1e-12, 1e-11);
  });

  it('L = 0 returns the initial state; bad chunk sizes are rejected', () => {
    const q = mamba2Problem(13, 1, 0, 2, 2, 2, 1, Float64Array);
    const r = ssdChunked({ ...q, chunkSize: 4 });
    expect(r.y.length).toBe(0);
    expectSame(r.finalState, q.initialState!);
    expect(() => ssdChunked({ ...q, chunkSize: 0 })).toThrow(SsmKernelError);
    expect(() => ssdChunked({ ...q, chunkSize: 2.5 })).toThrow(/ssdChunked: option 'chunkSize'/);
  });
});
