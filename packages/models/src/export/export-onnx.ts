// Standalone ONNX export of a teacher or hybrid: one cached inference graph (prefill, decode and multi-token steps)
// with weights embedded, that onnxruntime (or transformers.js) loads without this package.
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Graph, saveModel, type ModelSpec, type Tensor, type Dim } from '@mil/graph';
import { float32ToFloat16Bits } from '@mil/core';
import { writeFileAtomic, hybridConfigToJson, llamaConfigToJson, type HybridConfig, type LlamaConfig } from '@mil/checkpoint';
import { ModelsError } from '../errors';
import { buildLlamaInferenceGraph } from '../llama/inference-graph';
import { buildHybridInferenceGraph } from '../hybrid/hybrid-graphs';
import { toMamba1Layout } from '../hybrid/hybrid-weights';
import { renameSymbolicDims } from './onnx-dims';

export interface ExportOptions {
  /** Longest context the exported graph supports (RoPE table rows; default max_position_embeddings). */
  maxPositions?: number;
  /** Store initializers in `model.onnx.data` when the model exceeds this many bytes (default 1.5 GiB; ONNX's
   * protobuf limit is 2 GiB). */
  externalDataAbove?: number;
  /** Weights, caches and logits in float32 (default) or float16 (teachers only: the hybrid graph is float32). */
  dtype?: 'float32' | 'float16';
}

/** The model a graph is exported from: a teacher, or a teacher config plus a hybrid config for a student. */
export interface ExportSource {
  teacher: LlamaConfig;
  hybrid?: HybridConfig | null;
  weights: ReadonlyMap<string, Float32Array>;
}

export interface GraphIo {
  inputs: { name: string; dtype: string; shape: Dim[] }[];
  outputs: { name: string; dtype: string; shape: Dim[] }[];
}

export interface ExportedModel extends GraphIo {
  modelPath: string;
}

function toF16(w: Float32Array): Uint16Array {
  const out = new Uint16Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = float32ToFloat16Bits(w[i]);
  return out;
}

/**
 * Builds the exported inference graph with weights as initializers and symbolic dims named as transformers.js
 * resolves them (`batch_size`, `sequence_length`, `past_sequence_length`, `total_sequence_length`).
 *
 * @example
 * const { spec, io } = buildExportSpec({ teacher: config, weights }, { dtype: 'float16' });
 */
export function buildExportSpec(m: ExportSource, opts: ExportOptions = {}): { spec: ModelSpec; io: GraphIo } {
  const dtype = opts.dtype ?? 'float32';
  if (m.hybrid && dtype !== 'float32') throw new ModelsError('BAD_OPTION', `exportOnnx: dtype ${dtype} is for teachers only; the hybrid graph is float32`);
  const g = new Graph(m.hybrid ? 'hybrid_decoder' : 'llama_decoder');
  let outputs: Record<string, Tensor>;
  let weights = m.weights;
  if (m.hybrid) {
    weights = toMamba1Layout(m.teacher, m.hybrid, m.weights, 'fused');
    outputs = buildHybridInferenceGraph(g, m.teacher, m.hybrid, { maxPositions: opts.maxPositions, mamba1Layout: 'fused' }).outputs;
  } else outputs = buildLlamaInferenceGraph(g, m.teacher, { maxPositions: opts.maxPositions, dtype }).outputs;
  const built = g.toModel({
    outputs,
    weights: 'initializers',
    weightData: (n) => {
      const w = weights.get(n);
      if (!w) throw new ModelsError('MISSING_WEIGHT', `exportOnnx: no weight ${n}`);
      return dtype === 'float16' ? toF16(w) : w;
    },
  });
  const spec = renameSymbolicDims(built.spec);
  const io: GraphIo = {
    inputs: spec.graph.inputs.map((v) => ({ name: v.name, dtype: v.dtype, shape: v.shape })),
    outputs: spec.graph.outputs.map((v) => ({ name: v.name, dtype: v.dtype, shape: v.shape })),
  };
  return { spec, io };
}

/**
 * Writes the graph of {@link buildExportSpec} to `modelPath` (+ `<name>.data` beside it when large).
 *
 * @example
 * await writeExportGraph({ teacher: config, weights }, 'out/onnx/model_fp16.onnx', { dtype: 'float16' });
 */
export async function writeExportGraph(m: ExportSource, modelPath: string, opts: ExportOptions = {}): Promise<GraphIo> {
  const { spec, io } = buildExportSpec(m, opts);
  const bytes = spec.graph.initializers.reduce((s, t) => s + (t.rawData?.byteLength ?? 0), 0);
  await mkdir(dirname(modelPath), { recursive: true });
  const large = bytes > (opts.externalDataAbove ?? 1.5 * 2 ** 30);
  await saveModel(spec, modelPath, large ? { externalData: { location: `${modelPath.split(/[\\/]/).pop()}.data` } } : {});
  return io;
}

/**
 * Writes `dir/model.onnx` (+ `model.onnx.data` when large), `config.json` (+ `mamba_config.json` for hybrids) and
 * `io.json` describing the graph's inputs and outputs. Inputs: `input_ids`, `attention_mask` [batch_size, total]
 * (1 per cached + new token), and the caches `past_key_values.{i}.key/value` [batch_size, kv_heads, past, head_dim],
 * `past_conv.{i}`, `past_ssm.{i}`; outputs `logits` and the matching `present…` tensors (transformers.js names).
 *
 * @example
 * await exportOnnx({ teacher: config, weights }, 'out/sotu-tiny-onnx');
 * const session = await ort.InferenceSession.create('out/sotu-tiny-onnx/model.onnx');
 */
export async function exportOnnx(m: ExportSource, dir: string, opts: ExportOptions = {}): Promise<ExportedModel> {
  const modelPath = join(dir, 'model.onnx');
  const io = await writeExportGraph(m, modelPath, opts);
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(llamaConfigToJson(m.teacher), null, 2) + '\n');
  if (m.hybrid) await writeFileAtomic(join(dir, 'mamba_config.json'), JSON.stringify(hybridConfigToJson(m.hybrid), null, 2) + '\n');
  await writeFileAtomic(join(dir, 'io.json'), JSON.stringify(io, null, 2) + '\n');
  return { modelPath, ...io };
}
