import { createRng, type Rng } from '@mil/core';
import type { LlamaConfig } from '@mil/checkpoint';
import { ModelsError } from '../errors';

/** Where the oracle gets a weight by its HF name; `undefined` means absent. */
export type WeightSource = (name: string) => Float32Array | Float64Array | undefined;

/** One parameter of a Llama/Mistral checkpoint: its HF name and shape (`[out, in]` for linears). */
export interface WeightSpec {
  name: string;
  shape: number[];
}

/**
 * Every parameter a Llama/Mistral decoder with this config has, in HF names and layouts, in checkpoint order.
 * `lm_head.weight` is absent when `tie_word_embeddings`; biases appear only with `attention_bias` / `mlp_bias`.
 *
 * @example
 * llamaWeightSpecs(cfg).find((w) => w.name === 'model.layers.0.self_attn.k_proj.weight')!.shape; // [kvHeads*headDim, hidden]
 */
export function llamaWeightSpecs(config: LlamaConfig): WeightSpec[] {
  const r = config;
  const d = r.hiddenSize;
  const qDim = r.numAttentionHeads * r.headDim;
  const kvDim = r.numKeyValueHeads * r.headDim;
  const specs: WeightSpec[] = [{ name: 'model.embed_tokens.weight', shape: [r.vocabSize, d] }];
  for (let i = 0; i < r.numHiddenLayers; i++) {
    const p = `model.layers.${i}`;
    specs.push({ name: `${p}.input_layernorm.weight`, shape: [d] });
    const proj: [string, number, number][] = [
      ['q_proj', qDim, d],
      ['k_proj', kvDim, d],
      ['v_proj', kvDim, d],
      ['o_proj', d, qDim],
    ];
    for (const [n, out, inp] of proj) {
      specs.push({ name: `${p}.self_attn.${n}.weight`, shape: [out, inp] });
      if (r.attentionBias) specs.push({ name: `${p}.self_attn.${n}.bias`, shape: [out] });
    }
    specs.push({ name: `${p}.post_attention_layernorm.weight`, shape: [d] });
    const mlp: [string, number, number][] = [
      ['gate_proj', r.intermediateSize, d],
      ['up_proj', r.intermediateSize, d],
      ['down_proj', d, r.intermediateSize],
    ];
    for (const [n, out, inp] of mlp) {
      specs.push({ name: `${p}.mlp.${n}.weight`, shape: [out, inp] });
      if (r.mlpBias) specs.push({ name: `${p}.mlp.${n}.bias`, shape: [out] });
    }
  }
  specs.push({ name: 'model.norm.weight', shape: [d] });
  if (!r.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [r.vocabSize, d] });
  return specs;
}

/**
 * Seeded random weights for tests and oracles: linears uniform in ±1.5/sqrt(fan_in), embeddings in ±1,
 * norm weights in 1 ± 0.3, biases in ±0.1 — non-trivial everywhere so tests can fail.
 *
 * @example
 * const w = randomLlamaWeights(cfg, 7);
 * llamaOracleForward(cfg, (n) => w.get(n), [[1, 2, 3]]);
 */
export function randomLlamaWeights(config: LlamaConfig, seedOrRng: number | Rng): Map<string, Float32Array> {
  const rng = typeof seedOrRng === 'number' ? createRng(seedOrRng) : seedOrRng;
  const out = new Map<string, Float32Array>();
  for (const { name, shape } of llamaWeightSpecs(config)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(size);
    if (name.endsWith('norm.weight')) {
      for (let i = 0; i < size; i++) a[i] = 1 + 0.6 * (rng() - 0.5);
    } else if (name.endsWith('.bias')) {
      for (let i = 0; i < size; i++) a[i] = 0.2 * (rng() - 0.5);
    } else {
      const scale = name === 'model.embed_tokens.weight' ? 1 : 1.5 / Math.sqrt(shape[1]);
      for (let i = 0; i < size; i++) a[i] = scale * (2 * rng() - 1);
    }
    out.set(name, a);
  }
  return out;
}

/** A weight converted to float64, checked against its expected size. @internal */
export function readWeight(source: WeightSource, name: string, expectedSize: number): Float64Array {
  let w: Float32Array | Float64Array | undefined;
  try {
    w = source(name);
  } catch (cause) {
    throw new ModelsError('MISSING_WEIGHT', `weight ${name}: the weight source threw`, { cause });
  }
  if (w == null) throw new ModelsError('MISSING_WEIGHT', `weight ${name} is missing`);
  if (w.length !== expectedSize) {
    throw new ModelsError('BAD_WEIGHT_SHAPE', `weight ${name}: expected ${expectedSize} elements, got ${w.length}`);
  }
  return w instanceof Float64Array ? w : Float64Array.from(w);
}

/** The weights of one decoder layer, in float64. @internal */
export interface LayerWeights {
  inputNorm: Float64Array;
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  o: Float64Array;
  qBias: Float64Array | null;
  kBias: Float64Array | null;
  vBias: Float64Array | null;
  oBias: Float64Array | null;
  postNorm: Float64Array;
  gate: Float64Array;
  up: Float64Array;
  down: Float64Array;
  gateBias: Float64Array | null;
  upBias: Float64Array | null;
  downBias: Float64Array | null;
}

/** All weights of a model in float64, read once. @internal */
export interface LoadedLlamaWeights {
  embed: Float64Array;
  layers: LayerWeights[];
  norm: Float64Array;
  lmHead: Float64Array;
}

/** Reads and checks every weight the config needs. @internal */
export function loadLlamaWeights(r: LlamaConfig, source: WeightSource): LoadedLlamaWeights {
  const d = r.hiddenSize;
  const embed = readWeight(source, 'model.embed_tokens.weight', r.vocabSize * d);
  const layers: LayerWeights[] = [];
  for (let i = 0; i < r.numHiddenLayers; i++) layers.push(readLayerWeights(r, source, i, true));
  const norm = readWeight(source, 'model.norm.weight', d);
  const lmHead = r.tieWordEmbeddings ? embed : readWeight(source, 'lm_head.weight', r.vocabSize * d);
  return { embed, layers, norm, lmHead };
}

/**
 * Reads and checks the norms and MLP of decoder layer `i`, and its attention when `attention` (a hybrid's Mamba
 * layers have none: q/k/v/o are then empty and their biases null). @internal
 */
export function readLayerWeights(r: LlamaConfig, source: WeightSource, i: number, attention: boolean): LayerWeights {
  const p = `model.layers.${i}`;
  const d = r.hiddenSize;
  const qDim = r.numAttentionHeads * r.headDim;
  const kvDim = r.numKeyValueHeads * r.headDim;
  const f = r.intermediateSize;
  const none = new Float64Array(0);
  const rd = (n: string, size: number) => readWeight(source, `${p}.${n}`, size);
  const ab = (n: string, size: number) => (attention && r.attentionBias ? rd(`self_attn.${n}.bias`, size) : null);
  const mb = (n: string, size: number) => (r.mlpBias ? rd(`mlp.${n}.bias`, size) : null);
  return {
    inputNorm: rd('input_layernorm.weight', d),
    q: attention ? rd('self_attn.q_proj.weight', qDim * d) : none,
    k: attention ? rd('self_attn.k_proj.weight', kvDim * d) : none,
    v: attention ? rd('self_attn.v_proj.weight', kvDim * d) : none,
    o: attention ? rd('self_attn.o_proj.weight', d * qDim) : none,
    qBias: ab('q_proj', qDim),
    kBias: ab('k_proj', kvDim),
    vBias: ab('v_proj', kvDim),
    oBias: ab('o_proj', d),
    postNorm: rd('post_attention_layernorm.weight', d),
    gate: rd('mlp.gate_proj.weight', f * d),
    up: rd('mlp.up_proj.weight', f * d),
    down: rd('mlp.down_proj.weight', d * f),
    gateBias: mb('gate_proj', f),
    upBias: mb('up_proj', f),
    downBias: mb('down_proj', d),
  };
}
