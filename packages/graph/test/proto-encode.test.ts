import { describe, it, expect } from 'vitest';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeModel } from '../src/onnx/proto-encode';
import { ProtoWriter } from '../src/onnx/proto-wire';
import { externalizeInitializers, saveModel } from '../src/onnx/external-data';
import type { GraphSpec, ModelSpec, NodeSpec, TensorSpec } from '../src/onnx/model-spec';
import { GraphError } from '../src/errors';
import { randomFloats } from './contrib-oracles-harness';
import { mulberry32 } from '@mil/core';

const bytesOf = (a: Float32Array | BigInt64Array | Int32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const f32Tensor = (name: string, dims: number[], data: Float32Array): TensorSpec => ({ name, dtype: 'float32', dims, rawData: bytesOf(data) });
const model = (graph: GraphSpec, opset = 21): ModelSpec => ({
  irVersion: 10,
  opsetImports: [{ domain: '', version: opset }],
  producerName: 'mil-test',
  producerVersion: '0.1.0',
  graph,
});
const node = (opType: string, inputs: string[], outputs: string[], attributes: NodeSpec['attributes'] = {}): NodeSpec => ({
  opType,
  domain: '',
  name: `${opType}_${outputs[0]}`,
  inputs,
  outputs,
  attributes,
});
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

describe('protobuf wire writer', () => {
  it('writes varints, negative int64 as 10 bytes, fixed32 floats and packed fields', () => {
    const w = new ProtoWriter();
    w.int64(1, 300); // 08 ac 02
    w.int64(2, -1); // 10 ff×9 01
    w.int64(3, -(2n ** 63n)); // 18 80×9 01
    w.float(4, 1.5); // 25 00 00 c0 3f
    w.packedInt64(5, [1, -2, 2 ** 40]); // 2a len 01 | fe ff ff ff ff ff ff ff ff 01 | 80 80 80 80 80 20
    w.string(6, 'é'); // 32 02 c3 a9
    w.packedFloat(7, [-2]); // 3a 04 00 00 00 c0
    expect(hex(w.finish())).toBe(
      [
        '08 ac 02',
        '10 ff ff ff ff ff ff ff ff ff 01',
        '18 80 80 80 80 80 80 80 80 80 01',
        '25 00 00 c0 3f',
        '2a 11 01 fe ff ff ff ff ff ff ff ff 01 80 80 80 80 80 20',
        '32 02 c3 a9',
        '3a 04 00 00 00 c0',
      ].join(' '),
    );
  });

  it('nests finished sub-messages with their length, and keeps large blobs intact', () => {
    const blob = new Uint8Array(1000).map((_, i) => i & 0xff);
    const inner = new ProtoWriter();
    inner.bytes(9, blob);
    const outer = new ProtoWriter();
    outer.int64(1, 7);
    outer.message(2, inner);
    outer.int64(3, 8);
    const out = outer.finish();
    // 08 07 | 12 <len(inner)=1003: eb 07> | 4a <1000: e8 07> blob | 18 08
    expect(hex(out.subarray(0, 8))).toBe('08 07 12 eb 07 4a e8 07');
    expect(out.subarray(8, 1008)).toEqual(blob);
    expect(hex(out.subarray(1008))).toBe('18 08');
    expect(outer.size).toBe(out.length);
  });
});

describe('encodeModel → onnxruntime-node', () => {
  it('runs MatMul + Add with initializers and a symbolic batch dim', async () => {
    const rng = mulberry32(1);
    const W = randomFloats(rng, 3 * 4);
    const b = randomFloats(rng, 4);
    const bytes = encodeModel(
      model({
        name: 'affine',
        nodes: [node('MatMul', ['x', 'W'], ['xw']), node('Add', ['xw', 'b'], ['y'])],
        inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 3] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 4] }],
        initializers: [f32Tensor('W', [3, 4], W), f32Tensor('b', [4], b)],
        valueInfo: [{ name: 'xw', dtype: 'float32', shape: ['batch', 4] }],
      }),
    );
    const session = await InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['x']);
    for (const batch of [2, 5]) {
      const x = randomFloats(rng, batch * 3);
      const { y } = await session.run({ x: new Tensor('float32', x, [batch, 3]) });
      expect(y.dims).toEqual([batch, 4]);
      const want = new Float32Array(batch * 4);
      for (let i = 0; i < batch; i++)
        for (let j = 0; j < 4; j++) {
          let s = b[j];
          for (let k = 0; k < 3; k++) s += x[i * 3 + k] * W[k * 4 + j];
          want[i * 4 + j] = s;
        }
      const got = y.data as Float32Array;
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 5);
    }
    await session.release();
  });

  it('encodes every attribute type: ints, float, int, tensor, floats, string, strings, graph; negative ints', async () => {
    const rng = mulberry32(2);
    const A = randomFloats(rng, 3 * 2); // (3, 2), transposed in the graph
    const Bt = randomFloats(rng, 2 * 3); // (2, 3) = Bᵀ, undone by transB
    const C = randomFloats(rng, 2 * 2);
    const constTensor = randomFloats(rng, 4);
    const thenInit = randomFloats(rng, 2);
    const bigInts = [-1n, -(2n ** 40n), 2n ** 40n + 3n, -(2n ** 63n), 2n ** 63n - 1n, 0n, 127n, 128n];
    const graph: GraphSpec = {
      name: 'attrs',
      nodes: [
        // ints (perm): At = Aᵀ (2×3); Gemm: 0.25 · At · (Bt)ᵀ − 2 · C (float alpha/beta, int transB).
        node('Transpose', ['A'], ['At'], { perm: { type: 'ints', value: [1, 0] } }),
        node('Gemm', ['At', 'Bt', 'C'], ['gemm'], {
          alpha: { type: 'float', value: 0.25 },
          beta: { type: 'float', value: -2 },
          transB: { type: 'int', value: 1 },
        }),
        node('Constant', [], ['ct'], { value: { type: 'tensor', value: f32Tensor('ct_value', [2, 2], constTensor) } }),
        node('Constant', [], ['cf'], { value_floats: { type: 'floats', value: [0.5, -3.25, 1e-8] } }),
        node('Constant', [], ['ci'], { value_ints: { type: 'ints', value: bigInts } }),
        node('Constant', [], ['cint'], { value_int: { type: 'int', value: -7 } }),
        node('Constant', [], ['cs'], { value_string: { type: 'string', value: 'héllo ✓' } }),
        node('Constant', [], ['css'], { value_strings: { type: 'strings', value: ['a', '', 'ünïcode'] } }),
        node('Concat', ['gemm', 'ct'], ['cat'], { axis: { type: 'int', value: -1 } }),
        {
          ...node('If', ['cond'], ['branch']),
          attributes: {
            then_branch: {
              type: 'graph',
              value: {
                name: 'then',
                nodes: [node('Add', ['x', 'then_bias'], ['then_out'])],
                inputs: [],
                outputs: [{ name: 'then_out', dtype: 'float32', shape: [2] }],
                initializers: [f32Tensor('then_bias', [2], thenInit)],
              },
            },
            else_branch: {
              type: 'graph',
              value: {
                name: 'else',
                nodes: [node('Neg', ['x'], ['else_out'])],
                inputs: [],
                outputs: [{ name: 'else_out', dtype: 'float32', shape: [2] }],
                initializers: [],
              },
            },
          },
        },
      ],
      inputs: [
        { name: 'A', dtype: 'float32', shape: [3, 2] },
        { name: 'Bt', dtype: 'float32', shape: [2, 3] },
        { name: 'C', dtype: 'float32', shape: [2, 2] },
        { name: 'x', dtype: 'float32', shape: [2] },
        { name: 'cond', dtype: 'bool', shape: [] },
      ],
      outputs: [
        { name: 'cat', dtype: 'float32', shape: [2, 4] },
        { name: 'cf', dtype: 'float32', shape: [3] },
        { name: 'ci', dtype: 'int64', shape: [bigInts.length] },
        { name: 'cint', dtype: 'int64', shape: [] },
        { name: 'cs', dtype: 'string', shape: [] },
        { name: 'css', dtype: 'string', shape: [3] },
        { name: 'branch', dtype: 'float32', shape: [2] },
      ],
      initializers: [],
    };
    const session = await InferenceSession.create(encodeModel(model(graph)));
    const x = randomFloats(rng, 2);
    const feeds = (cond: boolean) => ({
      A: new Tensor('float32', A, [3, 2]),
      Bt: new Tensor('float32', Bt, [2, 3]),
      C: new Tensor('float32', C, [2, 2]),
      x: new Tensor('float32', x, [2]),
      cond: new Tensor('bool', new Uint8Array([cond ? 1 : 0]), []),
    });
    const r = await session.run(feeds(true));
    const cat = r.cat.data as Float32Array;
    expect(r.cat.dims).toEqual([2, 4]);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += A[k * 2 + i] * Bt[j * 3 + k];
        expect(cat[i * 4 + j]).toBeCloseTo(0.25 * s - 2 * C[i * 2 + j], 5);
      }
      for (let j = 0; j < 2; j++) expect(cat[i * 4 + 2 + j]).toBeCloseTo(constTensor[i * 2 + j], 6);
    }
    expect(Array.from(r.cf.data as Float32Array)).toEqual(Array.from(new Float32Array([0.5, -3.25, 1e-8])));
    expect(Array.from(r.ci.data as BigInt64Array)).toEqual(bigInts);
    expect(Array.from(r.cint.data as BigInt64Array)).toEqual([-7n]);
    expect(r.cs.data).toEqual(['héllo ✓']);
    expect(r.css.data).toEqual(['a', '', 'ünïcode']);
    const thenOut = r.branch.data as Float32Array;
    for (let i = 0; i < 2; i++) expect(thenOut[i]).toBeCloseTo(x[i] + thenInit[i], 6);
    const r2 = await session.run(feeds(false));
    const elseOut = r2.branch.data as Float32Array;
    for (let i = 0; i < 2; i++) expect(elseOut[i]).toBeCloseTo(-x[i], 6);
    await session.release();
  });

  it('rejects raw data whose length does not match dtype and dims', () => {
    const bad = model({
      name: 'bad',
      nodes: [],
      inputs: [],
      outputs: [],
      initializers: [{ name: 'w', dtype: 'float32', dims: [2, 3], rawData: new Uint8Array(20) }],
    });
    expect(() => encodeModel(bad)).toThrowError(GraphError);
    expect(() => encodeModel(bad)).toThrowError(/'w'.*20 bytes, expected 24/);
  });

  it('writes a model with external data (atomically) that onnxruntime loads by path', async () => {
    const rng = mulberry32(3);
    const W = randomFloats(rng, 64 * 32);
    const small = randomFloats(rng, 32);
    const spec = model({
      name: 'ext',
      nodes: [node('MatMul', ['x', 'W'], ['xw']), node('Add', ['xw', 'small'], ['y'])],
      inputs: [{ name: 'x', dtype: 'float32', shape: ['n', 64] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['n', 32] }],
      initializers: [f32Tensor('small', [32], small), f32Tensor('W', [64, 32], W)],
    });
    const ext = externalizeInitializers(spec, { location: 'w.bin', minBytes: 1024, align: 4096 });
    expect(ext.pieces.map((p) => p.offset)).toEqual([0]);
    expect(ext.spec.graph.initializers[0].rawData).toBe(spec.graph.initializers[0].rawData);
    expect(ext.spec.graph.initializers[1].external).toEqual({ location: 'w.bin', offset: 0, length: W.byteLength });

    const dir = await mkdtemp(join(tmpdir(), 'mil-proto-'));
    try {
      const path = join(dir, 'model.onnx');
      await saveModel(spec, path, { externalData: { minBytes: 1024 } });
      expect((await readdir(dir)).sort()).toEqual(['model.onnx', 'model.onnx.data']);
      expect((await stat(join(dir, 'model.onnx.data'))).size).toBe(W.byteLength);
      expect((await stat(path)).size).toBeLessThan(2048);
      const session = await InferenceSession.create(path);
      const x = randomFloats(rng, 2 * 64);
      const { y } = await session.run({ x: new Tensor('float32', x, [2, 64]) });
      const got = y.data as Float32Array;
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 32; j++) {
          let s = small[j];
          for (let k = 0; k < 64; k++) s += x[i * 64 + k] * W[k * 32 + j];
          expect(got[i * 32 + j]).toBeCloseTo(s, 4);
        }
      await session.release();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('encodes ~100 MB of initializers in one pass and onnxruntime reads every byte back', async () => {
    const rng = mulberry32(4);
    const n = 1 << 20; // 4 MiB per tensor
    const count = 25; // 100 MiB in all
    const weights: Float32Array[] = [];
    for (let t = 0; t < count; t++) {
      const w = new Float32Array(n);
      const base = rng();
      for (let i = 0; i < n; i++) w[i] = base + (i % 977) * 1e-3; // cheap to make, differs per tensor and index
      weights.push(w);
    }
    const spec = model({
      name: 'big',
      nodes: [node('Sum', ['x', ...weights.map((_, t) => `w${t}`)], ['y'])],
      inputs: [{ name: 'x', dtype: 'float32', shape: [n] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [n] }],
      initializers: weights.map((w, t) => f32Tensor(`w${t}`, [n], w)),
    });
    const bytes = encodeModel(spec);
    expect(bytes.length).toBeGreaterThan(count * n * 4);
    expect(bytes.length).toBeLessThan(count * n * 4 + 4096);
    const session = await InferenceSession.create(bytes);
    const x = randomFloats(rng, n);
    const { y } = await session.run({ x: new Tensor('float32', x, [n]) });
    const got = y.data as Float32Array;
    for (let i = 0; i < n; i += 4099) {
      let s = x[i];
      for (const w of weights) s += w[i];
      expect(got[i]).toBeCloseTo(s, 3);
    }
    await session.release();
  });
});
