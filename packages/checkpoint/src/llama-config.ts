// Hugging Face `config.json` of Llama and Mistral models: typed, validated, normalised (head_dim,
// num_key_value_heads and the other defaults filled in as transformers does), and serialisable back.
import { CheckpointError } from './errors';
import { asJsonObject, FieldReader, type Json } from './config-fields';
import { checkLlamaConfigBounds } from './config-bounds';

export type LlamaModelType = 'llama' | 'mistral';

/** Rotary scaling: none (null), linear position interpolation, or Llama 3.1's frequency-band rule. */
export type RopeScaling =
  | { readonly type: 'linear'; readonly factor: number }
  | {
      readonly type: 'llama3';
      readonly factor: number;
      readonly lowFreqFactor: number;
      readonly highFreqFactor: number;
      readonly originalMaxPositionEmbeddings: number;
    };

/** A Llama / Mistral decoder config with every default resolved. `raw` is the JSON it came from. */
export interface LlamaConfig {
  readonly modelType: LlamaModelType;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numHiddenLayers: number;
  readonly numAttentionHeads: number;
  /** GQA: query heads share KV heads in groups of numAttentionHeads / numKeyValueHeads. */
  readonly numKeyValueHeads: number;
  readonly headDim: number;
  readonly maxPositionEmbeddings: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly ropeScaling: RopeScaling | null;
  readonly tieWordEmbeddings: boolean;
  /** Mistral's sliding attention window in tokens; null = full causal attention. */
  readonly slidingWindow: number | null;
  readonly hiddenAct: 'silu';
  readonly attentionBias: boolean;
  readonly mlpBias: boolean;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | number[] | null;
  readonly padTokenId: number | null;
  /** `torch_dtype` (or `dtype`), e.g. 'bfloat16'. */
  readonly torchDtype: string | null;
  /** The HF JSON as read, so fields this type does not model survive a round trip. */
  readonly raw: Readonly<Record<string, unknown>>;
}

interface Defaults {
  maxPositionEmbeddings: number;
  numKeyValueHeads: number | null; // null: = num_attention_heads
  slidingWindow: number | null;
}
// transformers' LlamaConfig / MistralConfig defaults for the fields we let be absent.
const DEFAULTS: Record<LlamaModelType, Defaults> = {
  llama: { maxPositionEmbeddings: 2048, numKeyValueHeads: null, slidingWindow: null },
  mistral: { maxPositionEmbeddings: 4096 * 32, numKeyValueHeads: 8, slidingWindow: 4096 },
};
const ARCHITECTURE: Record<LlamaModelType, string> = { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM' };

function modelTypeOf(r: FieldReader): LlamaModelType {
  const t = r.json.model_type;
  if (t === 'llama' || t === 'mistral') return t;
  if (t === undefined) {
    const arch = (r.json.architectures as unknown[] | undefined)?.[0];
    if (arch === ARCHITECTURE.llama) return 'llama';
    if (arch === ARCHITECTURE.mistral) return 'mistral';
  }
  throw new CheckpointError(
    'UNKNOWN_MODEL_TYPE',
    `${r.source}: model_type ${t === undefined ? 'is missing' : JSON.stringify(t)}; expected "llama" or "mistral" (a Llama-style decoder: RMSNorm, RoPE, GQA, SwiGLU)`,
    { path: r.source },
  );
}

function parseRopeScaling(r: FieldReader, field: string, obj: Json | null): RopeScaling | null {
  if (obj === null) return null;
  const s = new FieldReader(obj, `${r.source}: ${field}`);
  const type = obj.rope_type ?? obj.type;
  if (type === undefined || type === 'default') return null;
  if (type === 'linear') return { type, factor: s.positive('factor') };
  if (type === 'llama3') {
    return {
      type,
      factor: s.positive('factor'),
      lowFreqFactor: s.positive('low_freq_factor'),
      highFreqFactor: s.positive('high_freq_factor'),
      originalMaxPositionEmbeddings: s.int('original_max_position_embeddings'),
    };
  }
  throw new CheckpointError('UNSUPPORTED_CONFIG', `${r.source}: ${field}.rope_type ${JSON.stringify(type)} is not supported; expected "default", "linear" or "llama3"`, { path: r.source });
}

/**
 * Parses and validates a Llama or Mistral `config.json` (object or JSON text). Missing core sizes,
 * inconsistent GQA / head sizes and unsupported options are CheckpointErrors naming the field.
 *
 * @example
 * const cfg = parseLlamaConfig(await readFile('config.json', 'utf8'), 'config.json');
 * cfg.numAttentionHeads / cfg.numKeyValueHeads; // GQA group size
 */
export function parseLlamaConfig(json: unknown, source = 'config.json'): LlamaConfig {
  const raw = asJsonObject(json, source, 'config');
  const r = new FieldReader(raw, source);
  const modelType = modelTypeOf(r);
  const d = DEFAULTS[modelType];
  const hiddenSize = r.int('hidden_size');
  const numAttentionHeads = r.int('num_attention_heads');
  const numKeyValueHeads = r.int('num_key_value_heads', { fallback: d.numKeyValueHeads ?? numAttentionHeads });
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    r.fail('num_key_value_heads', `a divisor of num_attention_heads (${numAttentionHeads}) for grouped-query attention`);
  }
  let headDim: number;
  if (r.has('head_dim') && r.json.head_dim !== null) headDim = r.int('head_dim'); // HF Mistral writes head_dim: null
  else {
    if (hiddenSize % numAttentionHeads !== 0) r.fail('hidden_size', `a multiple of num_attention_heads (${numAttentionHeads}) when head_dim is not given`);
    headDim = hiddenSize / numAttentionHeads;
  }
  const act = r.string('hidden_act', 'silu');
  if (act !== 'silu' && act !== 'swish') {
    throw new CheckpointError('UNSUPPORTED_CONFIG', `${source}: hidden_act ${JSON.stringify(act)} is not supported; expected "silu" (SwiGLU MLP)`, { path: source });
  }
  // transformers ≥ 4.56 may keep rope settings in `rope_parameters` instead of rope_theta / rope_scaling.
  const ropeParams = r.object('rope_parameters');
  const ropeTheta = ropeParams ? new FieldReader(ropeParams, `${source}: rope_parameters`).positive('rope_theta', 10000) : r.positive('rope_theta', 10000);
  const ropeScaling = ropeParams ? parseRopeScaling(r, 'rope_parameters', ropeParams) : parseRopeScaling(r, 'rope_scaling', r.object('rope_scaling'));
  const slidingWindow = raw.sliding_window === undefined ? d.slidingWindow : r.optionalInt('sliding_window', 1);
  const torchDtype = raw.torch_dtype ?? raw.dtype;

  return checkLlamaConfigBounds({
    modelType,
    vocabSize: r.int('vocab_size'),
    hiddenSize,
    intermediateSize: r.int('intermediate_size'),
    numHiddenLayers: r.int('num_hidden_layers'),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    maxPositionEmbeddings: r.int('max_position_embeddings', { fallback: d.maxPositionEmbeddings }),
    rmsNormEps: r.positive('rms_norm_eps', 1e-6),
    ropeTheta,
    ropeScaling,
    tieWordEmbeddings: r.bool('tie_word_embeddings', false),
    slidingWindow,
    hiddenAct: 'silu',
    attentionBias: r.bool('attention_bias', false),
    mlpBias: r.bool('mlp_bias', false),
    bosTokenId: raw.bos_token_id === undefined ? 1 : r.optionalInt('bos_token_id'),
    eosTokenId: raw.eos_token_id === undefined ? 2 : r.intOrInts('eos_token_id'),
    padTokenId: r.optionalInt('pad_token_id'),
    torchDtype: typeof torchDtype === 'string' ? torchDtype : null,
    raw,
  }, source);
}

function ropeScalingToJson(s: RopeScaling | null): Json | null {
  if (s === null) return null;
  if (s.type === 'linear') return { rope_type: 'linear', factor: s.factor };
  return {
    factor: s.factor,
    high_freq_factor: s.highFreqFactor,
    low_freq_factor: s.lowFreqFactor,
    original_max_position_embeddings: s.originalMaxPositionEmbeddings,
    rope_type: 'llama3',
  };
}

/**
 * The HF `config.json` object for a LlamaConfig: the fields of `raw`, overwritten by the typed values.
 * A typed field is written when `raw` had it or when it differs from transformers' default, so a config
 * read from disk is written back unchanged.
 *
 * @example
 * await writeFileAtomic('out/config.json', JSON.stringify(llamaConfigToJson({ ...cfg, numHiddenLayers: 4 }), null, 2) + '\n');
 */
export function llamaConfigToJson(cfg: LlamaConfig): Record<string, unknown> {
  const raw = cfg.raw ?? {};
  const out: Json = { ...raw };
  const d = DEFAULTS[cfg.modelType];
  const put = (key: string, value: unknown, fallback?: unknown): void => {
    if (key in raw || fallback === undefined || JSON.stringify(value) !== JSON.stringify(fallback)) out[key] = value;
  };
  if (!('architectures' in raw)) out.architectures = [ARCHITECTURE[cfg.modelType]];
  put('model_type', cfg.modelType);
  put('vocab_size', cfg.vocabSize);
  put('hidden_size', cfg.hiddenSize);
  put('intermediate_size', cfg.intermediateSize);
  put('num_hidden_layers', cfg.numHiddenLayers);
  put('num_attention_heads', cfg.numAttentionHeads);
  put('num_key_value_heads', cfg.numKeyValueHeads, d.numKeyValueHeads ?? cfg.numAttentionHeads);
  put('head_dim', cfg.headDim, cfg.hiddenSize / cfg.numAttentionHeads);
  put('max_position_embeddings', cfg.maxPositionEmbeddings, d.maxPositionEmbeddings);
  put('rms_norm_eps', cfg.rmsNormEps, 1e-6);
  put('hidden_act', raw.hidden_act === 'swish' ? 'swish' : cfg.hiddenAct, 'silu');
  if (raw.rope_parameters !== undefined && typeof raw.rope_parameters === 'object') {
    out.rope_parameters = { ...(raw.rope_parameters as Json), rope_theta: cfg.ropeTheta, ...(ropeScalingToJson(cfg.ropeScaling) ?? { rope_type: 'default' }) };
  } else {
    put('rope_theta', cfg.ropeTheta, 10000);
    const scaling = ropeScalingToJson(cfg.ropeScaling);
    // keep the original object (and its key spelling, e.g. "type") when the typed value did not change
    const before = parseRopeScalingQuiet(raw.rope_scaling);
    if (!(JSON.stringify(before) === JSON.stringify(cfg.ropeScaling) && 'rope_scaling' in raw)) put('rope_scaling', scaling, null);
  }
  put('tie_word_embeddings', cfg.tieWordEmbeddings, false);
  put('sliding_window', cfg.slidingWindow, d.slidingWindow);
  put('attention_bias', cfg.attentionBias, false);
  put('mlp_bias', cfg.mlpBias, false);
  put('bos_token_id', cfg.bosTokenId, 1);
  put('eos_token_id', cfg.eosTokenId, 2);
  put('pad_token_id', cfg.padTokenId, null);
  if (cfg.torchDtype !== null) {
    if ('dtype' in raw && !('torch_dtype' in raw)) out.dtype = cfg.torchDtype;
    else out.torch_dtype = cfg.torchDtype;
  }
  return out;
}

function parseRopeScalingQuiet(v: unknown): RopeScaling | null | 'invalid' {
  try {
    return parseRopeScaling(new FieldReader({}, ''), 'rope_scaling', (v ?? null) as Json | null);
  } catch {
    return 'invalid';
  }
}
