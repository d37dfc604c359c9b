// Standalone ONNX export of a teacher or hybrid: one cached inference graph (prefill, decode and multi-token steps)
// with weights embedded, that onnxruntime (or transformers.js) loads without this package.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Graph, saveModel, type Tensor } from '@mil/graph';
import { writeFileAtomic, hybridConfigToJson, type HybridConfig, type LlamaConfig } from '@mil/checkpoint';
import { ModelsError } from '../errors';
import { buildLlamaInferenceGraph } from '../llama/inference-graph';
import { buildHybridInferenceGraph } from '../hybrid/hybrid-graphs';
import { toMamba1Layout } from '../hybrid/hybrid-weights';

export interface ExportOptions {
  /** Longest context the exported graph supports (RoPE table rows; default max_position_embeddings). */
  maxPositions?: number;
  /** Store initializers in `model.onnx.data` when the model exceeds this many bytes (default 1.5 GiB; ONNX's
   * protobuf limit is 2 GiB). */
  externalDataAbove?: number;
}

export interface ExportedModel {
  modelPath: string;
  inputs: { name: string; dtype: string; shape: (number | string)[] }[];
  outputs: { name: string; dtype: string; shape: (number | string)[] }[];
}

/**
 * Writes `dir/model.onnx` (+ `model.onnx.data` when large), `config.json` (+ `mamba_config.json` for hybrids) and
 * `io.json` describing the graph's inputs and outputs. Inputs: `input_ids`, `attention_mask` [batch, total] (1 per
 * cached + new token), and the caches `past_key_values.{i}.key/value` [batch, kv_heads, past, head_dim],
 * `past_conv.{i}`, `past_ssm.{i}`; outputs `logits` and the matching `present…` tensors (transformers.js names).
 *
 * @example
 * await exportOnnx({ teacher: config, weights }, 'out/sotu-tiny-onnx');
 * const session = await ort.InferenceSession.create('out/sotu-tiny-onnx/model.onnx');
 */
export async function exportOnnx(
  m: { teacher: LlamaConfig; hybrid?: HybridConfig | null; weights: ReadonlyMap<string, Float32Array> },
  dir: string,
  opts: ExportOptions = {},
): Promise<ExportedModel> {
  const g = new Graph(m.hybrid ? 'hybrid_decoder' : 'llama_decoder');
  let outputs: Record<string, Tensor>;
  let weights = m.weights;
  if (m.hybrid) {
    weights = toMamba1Layout(m.teacher, m.hybrid, m.weights, 'fused');
    outputs = buildHybridInferenceGraph(g, m.teacher, m.hybrid, { maxPositions: opts.maxPositions, mamba1Layout: 'fused' }).outputs;
  } else outputs = buildLlamaInferenceGraph(g, m.teacher, { maxPositions: opts.maxPositions }).outputs;
  const built = g.toModel({
    outputs,
    weights: 'initializers',
    weightData: (n) => {
      const w = weights.get(n);
      if (!w) throw new ModelsError('MISSING_WEIGHT', `exportOnnx: no weight ${n}`);
      return w;
    },
  });
  const bytes = built.spec.graph.initializers.reduce((s, t) => s + (t.rawData?.byteLength ?? 0), 0);
  await mkdir(dir, { recursive: true });
  const modelPath = join(dir, 'model.onnx');
  await saveModel(built.spec, modelPath, bytes > (opts.externalDataAbove ?? 1.5 * 2 ** 30) ? { externalData: { location: 'model.onnx.data' } } : {});
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(m.teacher, null, 2) + '\n');
  if (m.hybrid) await writeFileAtomic(join(dir, 'mamba_config.json'), JSON.stringify(hybridConfigToJson(m.hybrid), null, 2) + '\n');
  const io = {
    inputs: built.spec.graph.inputs.map((v) => ({ name: v.name, dtype: v.dtype, shape: v.shape })),
    outputs: built.spec.graph.outputs.map((v) => ({ name: v.name, dtype: v.dtype, shape: v.shape })),
  };
  await writeFileAtomic(join(dir, 'io.json'), JSON.stringify(io, null, 2) + '\n');
  return { modelPath, ...io };
}
