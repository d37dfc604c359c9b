// A Llama teacher's weights and config as llama.cpp's `llama` architecture expects them in GGUF.
import type { LlamaConfig } from '@mil/checkpoint';
import { ModelsError } from '../errors';
import { encodeGgml } from './gguf-quant';
import type { GgmlType, GgufTensor, GgufValue } from './gguf-writer';

/** Weight dtypes of a GGUF export: 2-D weights in this type, norm vectors always F32 (as llama.cpp's converter does). */
export type GgufDtype = 'f32' | 'f16' | 'q8_0';

/** general.file_type (llama_ftype) per export dtype. */
export const GGUF_FILE_TYPE: Record<GgufDtype, number> = { f32: 0, f16: 1, q8_0: 7 };

/**
 * Reorders the rows of an HF q_proj / k_proj weight [heads·headDim, in] from Hugging Face's rotate-half RoPE layout
 * (within a head: first half of the dims, then the second) to llama.cpp's interleaved pairs (dim j and j+headDim/2
 * become rows 2j and 2j+1), which is what llama.cpp's `llama` architecture rotates. Same as its converter's
 * `permute`: reshape (heads, 2, headDim/2, in) → swap axes 1, 2.
 *
 * @example
 * permuteRopeRows(q, 4, 64, 256); // q_proj of 4 heads × 64 dims, 256 inputs
 */
export function permuteRopeRows(w: Float32Array, heads: number, headDim: number, cols: number): Float32Array {
  if (w.length !== heads * headDim * cols) throw new ModelsError('BAD_WEIGHT_SHAPE', `permuteRopeRows: ${w.length} values, expected ${heads}×${headDim}×${cols}`);
  const out = new Float32Array(w.length);
  const half = headDim / 2;
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < half; j++) {
      for (let s = 0; s < 2; s++) {
        const src = (h * headDim + s * half + j) * cols;
        const dst = (h * headDim + 2 * j + s) * cols;
        out.set(w.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

/** Adds tensors to a GGUF export: 2-D weights in the export dtype, vectors (and `f32` matrices) as F32. */
export interface GgufEmitter {
  /** A row-major [rows, cols] matrix (ne = [cols, rows]) in the export dtype. */
  mat(name: string, data: Float32Array, rows: number, cols: number): void;
  /** A tensor kept in F32 whatever the dtype, with ggml dims `ne`. */
  f32(name: string, data: Float32Array, ne: readonly number[]): void;
  /** A named weight of the source model. */
  get(name: string): Float32Array;
}

export interface LlamaGgufOptions {
  /** llama.context_length (default max_position_embeddings). */
  contextLength?: number;
  /** general.architecture and the metadata key prefix (default `llama`). */
  arch?: string;
  /** Writes layer `i`'s mixer itself and returns true, or returns false for the teacher's attention. */
  mixer?: (i: number, emit: GgufEmitter) => boolean;
}

/**
 * GGUF tensors (llama.cpp names: token_embd, blk.N.attn_q …, output_norm, output) and `<arch>.*` metadata of a
 * teacher (or, with `mixer`, of a model whose layers replace some attention blocks). Tied embeddings write no
 * `output.weight` (llama.cpp then reuses token_embd).
 *
 * @example
 * const { tensors, metadata } = llamaGgufTensors(config, weights, 'q8_0', { contextLength: 4096 });
 */
export function llamaGgufTensors(
  config: LlamaConfig,
  weights: ReadonlyMap<string, Float32Array>,
  dtype: GgufDtype,
  opts: LlamaGgufOptions = {},
): { tensors: GgufTensor[]; metadata: [string, GgufValue][] } {
  const c = config;
  if (c.ropeScaling) throw new ModelsError('BAD_CONFIG', 'GGUF export: config.rope_scaling is not supported yet (write it as llama.rope.scaling.* first)');
  if (c.attentionBias || c.mlpBias) throw new ModelsError('BAD_CONFIG', 'GGUF export: attention_bias / mlp_bias are not supported by this exporter');
  if (c.slidingWindow) throw new ModelsError('BAD_CONFIG', 'GGUF export: sliding_window has no llama.cpp `llama` equivalent');
  const matType: GgmlType = dtype === 'f32' ? 'F32' : dtype === 'f16' ? 'F16' : 'Q8_0';
  const get = (n: string): Float32Array => {
    const w = weights.get(n);
    if (!w) throw new ModelsError('MISSING_WEIGHT', `GGUF export: no weight ${n}`);
    return w;
  };
  const tensors: GgufTensor[] = [];
  const mat = (name: string, data: Float32Array, rows: number, cols: number) => {
    if (data.length !== rows * cols) throw new ModelsError('BAD_WEIGHT_SHAPE', `GGUF export: ${name} has ${data.length} values, expected [${rows}, ${cols}]`);
    tensors.push({ name, ne: [cols, rows], type: matType, data: encodeGgml(data, matType) });
  };
  const vec = (name: string, data: Float32Array) => tensors.push({ name, ne: [data.length], type: 'F32', data: encodeGgml(data, 'F32') });
  const emit: GgufEmitter = {
    mat,
    get,
    f32: (name, data, ne) => {
      if (data.length !== ne.reduce((a, b) => a * b, 1)) throw new ModelsError('BAD_WEIGHT_SHAPE', `GGUF export: ${name} has ${data.length} values, expected ne [${ne}]`);
      tensors.push({ name, ne, type: 'F32', data: encodeGgml(data, 'F32') });
    },
  };
  const d = c.hiddenSize;
  const hd = c.headDim;
  mat('token_embd.weight', get('model.embed_tokens.weight'), c.vocabSize, d);
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const p = `model.layers.${i}`;
    vec(`blk.${i}.attn_norm.weight`, get(`${p}.input_layernorm.weight`));
    if (!opts.mixer?.(i, emit)) {
      mat(`blk.${i}.attn_q.weight`, permuteRopeRows(get(`${p}.self_attn.q_proj.weight`), c.numAttentionHeads, hd, d), c.numAttentionHeads * hd, d);
      mat(`blk.${i}.attn_k.weight`, permuteRopeRows(get(`${p}.self_attn.k_proj.weight`), c.numKeyValueHeads, hd, d), c.numKeyValueHeads * hd, d);
      mat(`blk.${i}.attn_v.weight`, get(`${p}.self_attn.v_proj.weight`), c.numKeyValueHeads * hd, d);
      mat(`blk.${i}.attn_output.weight`, get(`${p}.self_attn.o_proj.weight`), d, c.numAttentionHeads * hd);
    }
    vec(`blk.${i}.ffn_norm.weight`, get(`${p}.post_attention_layernorm.weight`));
    mat(`blk.${i}.ffn_gate.weight`, get(`${p}.mlp.gate_proj.weight`), c.intermediateSize, d);
    mat(`blk.${i}.ffn_up.weight`, get(`${p}.mlp.up_proj.weight`), c.intermediateSize, d);
    mat(`blk.${i}.ffn_down.weight`, get(`${p}.mlp.down_proj.weight`), d, c.intermediateSize);
  }
  vec('output_norm.weight', get('model.norm.weight'));
  if (!c.tieWordEmbeddings) mat('output.weight', get('lm_head.weight'), c.vocabSize, d);
  const u32 = (value: number): GgufValue => ({ type: 'uint32', value });
  const f32 = (value: number): GgufValue => ({ type: 'float32', value });
  const a = opts.arch ?? 'llama';
  const metadata: [string, GgufValue][] = [
    ['general.architecture', { type: 'string', value: a }],
    ['general.file_type', u32(GGUF_FILE_TYPE[dtype])],
    ...(dtype === 'q8_0' ? ([['general.quantization_version', u32(2)]] as [string, GgufValue][]) : []),
    [`${a}.vocab_size`, u32(c.vocabSize)],
    [`${a}.context_length`, u32(opts.contextLength ?? c.maxPositionEmbeddings)],
    [`${a}.embedding_length`, u32(d)],
    [`${a}.block_count`, u32(c.numHiddenLayers)],
    [`${a}.feed_forward_length`, u32(c.intermediateSize)],
    [`${a}.rope.dimension_count`, u32(hd)],
    [`${a}.rope.freq_base`, f32(c.ropeTheta)],
    [`${a}.attention.head_count`, u32(c.numAttentionHeads)],
    [`${a}.attention.head_count_kv`, u32(c.numKeyValueHeads)],
    [`${a}.attention.key_length`, u32(hd)],
    [`${a}.attention.value_length`, u32(hd)],
    [`${a}.attention.layer_norm_rms_epsilon`, f32(c.rmsNormEps)],
  ];
  return { tensors, metadata };
}
