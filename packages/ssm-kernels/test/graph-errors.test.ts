// The graph forms reject bad shapes, dtypes and options at build time with SsmKernelError codes that name the
// tensor or option at fault.
import { describe, it, expect } from 'vitest';
import { Graph } from '@mil/graph';
import {
  SsmKernelError,
  causalConv1dGraph,
  causalConv1dRingGraph,
  mamba1ScanGraph,
  mamba2DecodeStepGraph,
  mamba2MultiStepVerifyGraph,
  mamba2PrefillGraph,
  mamba2ScanGraph,
} from '../src/index';

function expectCode(fn: () => unknown, code: string, message: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SsmKernelError);
    expect((e as SsmKernelError).code).toBe(code);
    expect((e as Error).message).toMatch(message);
    return;
  }
  expect.fail('expected an SsmKernelError');
}

function mamba2Inputs(g: Graph, L: number | string = 'seq') {
  return {
    x: g.input('x', 'float32', ['batch', L, 4, 3]), dt: g.input('dt', 'float32', ['batch', L, 4]),
    B: g.input('B', 'float32', ['batch', L, 2, 5]), C: g.input('C', 'float32', ['batch', L, 2, 5]),
    A: g.input('A', 'float32', [4]),
  };
}

describe('graph forms: build-time validation', () => {
  it('mamba2ScanGraph: chunk size, dtSoftplus, head / group mismatch, dtype, foreign graph', () => {
    const g = new Graph();
    const t = mamba2Inputs(g);
    expectCode(() => mamba2ScanGraph(g, t, { chunkSize: 0, dtSoftplus: true }), 'BAD_OPTION', /option 'chunkSize' must be an integer >= 1/);
    expectCode(() => mamba2ScanGraph(g, t, { chunkSize: 4 } as never), 'BAD_OPTION', /dtSoftplus/);
    const badC = g.input('C3', 'float32', ['batch', 'seq', 3, 5]);
    expectCode(() => mamba2ScanGraph(g, { ...t, C: badC }, { chunkSize: 4, dtSoftplus: true }), 'BAD_SHAPE', /tensor 'C'.*axis 2/);
    const B3 = g.input('B3', 'float32', ['batch', 'seq', 3, 5]);
    expectCode(() => mamba2ScanGraph(g, { ...t, B: B3, C: B3 }, { chunkSize: 4, dtSoftplus: true }), 'BAD_SHAPE', /groups g \(3.*must divide heads h \(4\)/);
    const A64 = g.input('A64', 'float64', [4]);
    expectCode(() => mamba2ScanGraph(g, { ...t, A: A64 }, { chunkSize: 4, dtSoftplus: true }), 'BAD_DTYPE', /tensor 'A'.*float32/);
    const other = new Graph();
    expectCode(() => mamba2ScanGraph(other, t, { chunkSize: 4, dtSoftplus: true }), 'BAD_OPTION', /belongs to another graph/);
    const h0 = g.input('h0', 'float32', ['batch', 4, 5, 3]); // (b, h, n, p) given where (b, h, p, n) is expected
    expectCode(() => mamba2ScanGraph(g, { ...t, initialState: h0 }, { chunkSize: 4, dtSoftplus: true }), 'BAD_SHAPE', /initialState/);
  });

  it('mamba1ScanGraph: symbolic channels are refused (they size parameters)', () => {
    const g = new Graph();
    const u = g.input('u', 'float32', ['batch', 'seq', 'dim']);
    expectCode(
      () => mamba1ScanGraph(g, { u, delta: u, A: g.input('A', 'float32', [8, 4]), B: g.input('B', 'float32', ['batch', 'seq', 2, 4]), C: g.input('C', 'float32', ['batch', 'seq', 2, 4]) }, { chunkSize: 4, deltaSoftplus: true }),
      'BAD_SHAPE', /axis 2 \(channels d\) of tensor 'u'.*must be static/,
    );
  });

  it('inference forms: state layout option and state shape', () => {
    const g = new Graph();
    const t = mamba2Inputs(g, 1);
    expectCode(() => mamba2PrefillGraph(g, t, { dtSoftplus: true, stateLayout: 'phn' as never }), 'BAD_OPTION', /stateLayout/);
    const s = g.input('s', 'float32', ['batch', 4, 3, 5]);
    expectCode(() => mamba2PrefillGraph(g, { ...t, initialState: s }, { dtSoftplus: true, stateLayout: 'hnp' }), 'BAD_SHAPE', /initialState/);
    const x = g.input('x1', 'float32', [1, 4, 3]);
    expectCode(
      () => mamba2DecodeStepGraph(g, { x, dt: g.input('dt1', 'float32', [1, 4]), B: g.input('B1', 'float32', [1, 2, 5]), C: g.input('C1', 'float32', [1, 2, 5]), A: t.A, state: g.input('s1', 'float32', [1, 4, 3, 6]) }, { dtSoftplus: true }),
      'BAD_SHAPE', /tensor 'state'/,
    );
  });

  it('verify: exactly one of the two protocols', () => {
    const g = new Graph();
    const t = mamba2Inputs(g, 3);
    const snapshot = g.input('snap', 'float32', [1, 4, 3, 5]);
    const cache = { x: g.input('cx', 'float32', [1, 3, 4, 3]), dt: g.input('cdt', 'float32', [1, 3, 4]), B: g.input('cB', 'float32', [1, 3, 2, 5]) };
    const r = g.input('r', 'int32', [1]);
    expectCode(() => mamba2MultiStepVerifyGraph(g, { ...t, snapshot, cache, recomputeSteps: r }, { dtSoftplus: true }), 'BAD_OPTION', /either 'state' with 'recomputeSteps'/);
    const rf = g.input('rf', 'float32', [1]);
    expectCode(() => mamba2MultiStepVerifyGraph(g, { ...t, snapshot, cache, replaySteps: rf }, { dtSoftplus: true }), 'BAD_DTYPE', /replaySteps.*int32 or int64/);
  });

  it('conv forms: width, activation, ring length', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [1, 5, 3]);
    expectCode(() => causalConv1dGraph(g, { x, weight: g.input('w1', 'float32', [3, 1]) }, { activation: 'silu' }), 'BAD_OPTION', /width.*>= 2/);
    const weight = g.input('w', 'float32', [3, 4]);
    expectCode(() => causalConv1dGraph(g, { x, weight }, { activation: 'gelu' as never }), 'BAD_OPTION', /activation/);
    expectCode(
      () => causalConv1dRingGraph(g, { x, weight, state: g.input('s', 'float32', [1, 3, 4]), cacheSeqlens: g.input('c', 'int32', [1]) }, { activation: 'silu' }),
      'BAD_OPTION', /must not exceed the ring length 4/,
    );
  });
});
