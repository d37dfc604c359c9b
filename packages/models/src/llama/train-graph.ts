// The Llama / Mistral decoder as a differentiable training graph (standard ONNX ops only).
import type { LlamaConfig } from '@mil/checkpoint';
import {
  type DType, type Graph, type Tensor,
  add, cast, gather, greater, matmul, mul, reshape, softmax, sub, transpose, unsqueeze, where,
} from '@mil/graph';
import { ropeInvFreq } from '../oracle/rope';
import { applyRope, linear, rmsNorm, swiglu } from './layers';
import { llamaParamFactory } from './param-factory';

export interface LlamaTrainGraph {
  inputIds: Tensor;
  positionIds: Tensor;
  /** [batch, seq, vocab] */
  logits: Tensor;
  /** Final hidden states before the LM head, [batch, seq, hidden]. */
  hidden: Tensor;
  /** Parameters by HF name. */
  params: Map<string, Tensor>;
}

export interface TrainGraphOptions {
  dtype?: DType;
  /** Rows of the RoPE cos/sin tables (default: max_position_embeddings). */
  maxPositions?: number;
  /** Layer indices whose mixer is supplied by `mixer` instead of attention (used by hybrids). */
  mixer?: (layer: number, x: Tensor, ctx: LayerContext) => Tensor | null;
  /** Sees each layer's normed mixer input and mixer output (e.g. for layer-wise alignment targets). */
  capture?: (layer: number, input: Tensor, mixerOut: Tensor) => void;
}

/** What a layer's mixer can use: the resolved config, the parameter factory and the RoPE/mask pieces. */
export interface LayerContext {
  g: Graph;
  cfg: LlamaConfig;
  dtype: DType;
  param: (name: string, shape: number[]) => Tensor;
  positionIds: Tensor;
}

/** cos / sin tables [maxPositions, headDim/2] for RoPE with the config's theta and scaling. */
export function ropeTables(cfg: LlamaConfig, maxPositions: number): { cos: Float64Array; sin: Float64Array } {
  const inv = ropeInvFreq(cfg.headDim, cfg.ropeTheta, cfg.ropeScaling);
  const half = cfg.headDim / 2;
  const cos = new Float64Array(maxPositions * half);
  const sin = new Float64Array(maxPositions * half);
  for (let p = 0; p < maxPositions; p++)
    for (let i = 0; i < half; i++) {
      cos[p * half + i] = Math.cos(p * inv[i]);
      sin[p * half + i] = Math.sin(p * inv[i]);
    }
  return { cos, sin };
}

function tableConst(g: Graph, data: Float64Array, dtype: DType, shape: number[]): Tensor {
  return g.constant(dtype === 'float64' ? data : Float32Array.from(data), dtype === 'float64' ? 'float64' : 'float32', shape);
}

/** Causal self-attention with GQA by broadcasting (no KV repeat), mask from position ids, optional sliding window. */
function attention(x: Tensor, i: number, c: LayerContext, cos: Tensor, sin: Tensor, mask: Tensor): Tensor {
  const { cfg, param } = c;
  const p = `model.layers.${i}.self_attn`;
  const h = cfg.numAttentionHeads;
  const kvh = cfg.numKeyValueHeads;
  const hd = cfg.headDim;
  const d = cfg.hiddenSize;
  const bias = (n: string, size: number) => (cfg.attentionBias ? param(`${p}.${n}.bias`, [size]) : null);
  const heads = (t: Tensor, n: number) => transpose(reshape(t, [0, 0, n, hd]), [0, 2, 1, 3]);
  const q = applyRope(heads(linear(x, param(`${p}.q_proj.weight`, [h * hd, d]), bias('q_proj', h * hd)), h), cos, sin);
  const k = applyRope(heads(linear(x, param(`${p}.k_proj.weight`, [kvh * hd, d]), bias('k_proj', kvh * hd)), kvh), cos, sin);
  const v = heads(linear(x, param(`${p}.v_proj.weight`, [kvh * hd, d]), bias('v_proj', kvh * hd)), kvh);
  // GQA: query head j·rep + r reads KV head j (HF repeat_kv); broadcast [b, kvh, rep, s, hd] against [b, kvh, 1, s, hd].
  const rep = h / kvh;
  const q5 = reshape(q, ['batch', kvh, rep, 'seq', hd]);
  const k5 = unsqueeze(k, [2]);
  const v5 = unsqueeze(v, [2]);
  const scores = mul(matmul(q5, transpose(k5, [0, 1, 2, 4, 3])), 1 / Math.sqrt(hd));
  const probs = softmax(where(mask, c.dtype === 'float16' ? -65504 : -1e9, scores), -1);
  const o = reshape(matmul(probs, v5), ['batch', h, 'seq', hd]);
  const merged = reshape(transpose(o, [0, 2, 1, 3]), ['batch', 'seq', h * hd]);
  return linear(merged, param(`${p}.o_proj.weight`, [d, h * hd]), bias('o_proj', d));
}

/**
 * Emits the training / full-sequence forward graph of a Llama or Mistral decoder into `g`.
 * Inputs: `input_ids` [batch, seq] and `position_ids` [batch, seq] (int64). Parameters use HF names.
 *
 * @example
 * const g = new Graph();
 * const { logits, params } = buildLlamaTrainGraph(g, config);
 * const model = g.toModel({ outputs: { logits } }); // weights as inputs
 */
export function buildLlamaTrainGraph(g: Graph, config: LlamaConfig, opts: TrainGraphOptions = {}): LlamaTrainGraph {
  const cfg = config;
  const dtype = opts.dtype ?? 'float32';
  const { params, param } = llamaParamFactory(g, config, dtype);
  const inputIds = g.input('input_ids', 'int64', ['batch', 'seq']);
  const positionIds = g.input('position_ids', 'int64', ['batch', 'seq']);
  const maxPos = opts.maxPositions ?? cfg.maxPositionEmbeddings;
  const { cos, sin } = ropeTables(cfg, maxPos);
  const half = cfg.headDim / 2;
  const tcos = cast(tableConst(g, cos, dtype, [maxPos, half]), dtype);
  const tsin = cast(tableConst(g, sin, dtype, [maxPos, half]), dtype);
  const cosB = unsqueeze(gather(tcos, positionIds), [1]); // [b, 1, s, hd/2]
  const sinB = unsqueeze(gather(tsin, positionIds), [1]);
  // Mask [b, 1, 1, s_q, s_k]: key after query, or (sliding window) too far behind it.
  const qpos = unsqueeze(positionIds, [1, 2, 4]);
  const kpos = unsqueeze(positionIds, [1, 2, 3]);
  let mask = greater(kpos, qpos);
  if (cfg.slidingWindow != null) {
    const far = greater(sub(qpos, kpos), cfg.slidingWindow - 1);
    mask = g.addNode('Or', [mask, far], [{ dtype: 'bool', shape: [...mask.shape] }])[0];
  }
  const ctx: LayerContext = { g, cfg, dtype, param, positionIds };
  const embed = param('model.embed_tokens.weight', [cfg.vocabSize, cfg.hiddenSize]);
  let x = gather(embed, inputIds);
  for (let i = 0; i < cfg.numHiddenLayers; i++) {
    const pre = `model.layers.${i}`;
    const hIn = rmsNorm(x, param(`${pre}.input_layernorm.weight`, [cfg.hiddenSize]), cfg.rmsNormEps);
    const mixed = opts.mixer?.(i, hIn, ctx) ?? attention(hIn, i, ctx, cosB, sinB, mask);
    opts.capture?.(i, hIn, mixed);
    x = add(x, mixed);
    const hPost = rmsNorm(x, param(`${pre}.post_attention_layernorm.weight`, [cfg.hiddenSize]), cfg.rmsNormEps);
    x = add(
      x,
      swiglu(
        hPost,
        param(`${pre}.mlp.gate_proj.weight`, []),
        param(`${pre}.mlp.up_proj.weight`, []),
        param(`${pre}.mlp.down_proj.weight`, []),
      ),
    );
  }
  const hidden = rmsNorm(x, param('model.norm.weight', [cfg.hiddenSize]), cfg.rmsNormEps);
  const head = cfg.tieWordEmbeddings ? embed : param('lm_head.weight', [cfg.vocabSize, cfg.hiddenSize]);
  const logits = linear(hidden, head);
  return { inputIds, positionIds, logits, hidden, params };
}
