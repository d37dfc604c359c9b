// The reference's `mamba_config.json` (MambaInLlama): which layers stay attention and the sizes of the
// Mamba mixers that replace the others. Field names and defaults follow the reference's config dataclass.
import { CheckpointError } from './errors';
import { asJsonObject, FieldReader, type Json } from './config-fields';
import { checkHybridConfigBounds } from './config-bounds';
import type { LlamaConfig } from './llama-config';

export type HybridVariant = 'mamba1' | 'mamba2';

/** The `ssm_cfg` block, with the defaults of mamba_ssm's Mamba / Mamba2 modules resolved. */
export interface SsmConfig {
  readonly expand: number;
  /** N: state size per channel (Mamba-1, default 16) or per head = head dim (Mamba-2, default 128). */
  readonly dState: number;
  readonly dConv: number;
  /** Mamba-1: rank of the low-rank Δ projection (default ceil(d_model / 16)). */
  readonly dtRank: number;
  /** Mamba-2: number of B/C groups (= heads in the reference); Mamba-1: 1. */
  readonly ngroups: number;
  /** Mamba-2: channels per SSM head (the reference forces headdim = d_state). */
  readonly headdim: number;
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface HybridConfig {
  readonly variant: HybridVariant;
  readonly dModel: number;
  /** Channels of x / z / C (= heads × head dim of the teacher). */
  readonly dInner: number;
  /** Channels of the un-expanded x / B (= KV heads × head dim of the teacher). */
  readonly dXb: number;
  readonly nLayer: number;
  /** Layers that keep the teacher's attention, ascending. */
  readonly attnLayers: readonly number[];
  /** The others: layers whose mixer is Mamba, ascending. */
  readonly ssmLayers: readonly number[];
  readonly intermediateSize: number;
  readonly hiddenAct: string;
  readonly rmsNormEps: number;
  readonly vocabSize: number;
  readonly ssm: SsmConfig;
  readonly raw: Readonly<Record<string, unknown>>;
}

/** Which variant a config describes: `ssm_cfg.layer` if set ("Mamba1"/"Mamba2"), else Mamba-2 when `ngroups` is given. */
function detectVariant(ssm: Json, r: FieldReader): HybridVariant {
  const layer = ssm.layer;
  if (layer === 'Mamba2') return 'mamba2';
  if (layer === 'Mamba1' || layer === 'Mamba') return 'mamba1';
  if (layer !== undefined) r.fail('ssm_cfg', `an object whose "layer" is "Mamba1" or "Mamba2" (found layer ${JSON.stringify(layer)})`);
  return ssm.ngroups !== undefined ? 'mamba2' : 'mamba1';
}

export interface ParseHybridOptions {
  /** Force the variant instead of detecting it. */
  variant?: HybridVariant;
  /**
   * The teacher's `vocab_size`, used when `vocab_size` is null or absent: the reference's training scripts never
   * set it, so the `mamba_config.json` they write holds `"vocab_size": null` (the vocabulary is the teacher's).
   */
  vocabSize?: number;
}

function vocabSizeOf(r: FieldReader, teacherVocab: number | undefined): number {
  if ((r.json.vocab_size === null || r.json.vocab_size === undefined) && teacherVocab === undefined) {
    r.fail('vocab_size', "an integer ≥ 1, or null with the teacher's vocab_size given (loadModelFolder takes it from config.json)");
  }
  return r.int('vocab_size', { fallback: teacherVocab });
}

/**
 * Parses and validates a hybrid `mamba_config.json` (object or JSON text). The variant comes from
 * `opts.variant`, else `ssm_cfg.layer`, else the presence of `ssm_cfg.ngroups` (as in the released Mamba-2
 * configs). A null `vocab_size` takes `opts.vocabSize` (the teacher's). Sizes that cannot form the reference's
 * mixer are CheckpointErrors naming the field.
 *
 * @example
 * const h = parseMambaHybridConfig({ d_model: 4096, ssm_cfg: { expand: 1 }, rms_norm_eps: 1e-5, vocab_size: 128256,
 *   d_inner: 4096, d_xb: 1024, intermediate_size: 14336, hidden_act: 'silu', n_layer: 32, attn_layers: [1, 3, 5] });
 * h.ssmLayers; // [0, 2, 4, 6, 7, ...]
 * parseMambaHybridConfig({ ...sameFields, vocab_size: null }, 'mamba_config.json', { vocabSize: teacher.vocabSize });
 */
export function parseMambaHybridConfig(json: unknown, source = 'mamba_config.json', opts: ParseHybridOptions = {}): HybridConfig {
  const raw = asJsonObject(json, source, 'hybrid config');
  checkHybridConfigBounds(raw, source);
  const r = new FieldReader(raw, source);
  const dModel = r.int('d_model');
  const nLayer = r.int('n_layer');
  const dInner = r.int('d_inner');
  const dXb = r.int('d_xb');
  const ssmRaw = r.object('ssm_cfg') ?? {};
  const variant = opts.variant ?? detectVariant(ssmRaw, r);
  const s = new FieldReader(ssmRaw, `${source}: ssm_cfg`);
  const dState = s.int('d_state', { fallback: variant === 'mamba1' ? 16 : 128 });
  const ngroups = variant === 'mamba2' ? s.int('ngroups', { fallback: dInner / dState }) : 1;
  const ssm: SsmConfig = {
    expand: s.int('expand', { fallback: 1 }),
    dState,
    dConv: s.int('d_conv', { fallback: 4 }),
    dtRank: ssmRaw.dt_rank === undefined || ssmRaw.dt_rank === 'auto' ? Math.ceil(dModel / 16) : s.int('dt_rank'),
    ngroups,
    headdim: variant === 'mamba2' ? s.int('headdim', { fallback: dState }) : dState,
    raw: ssmRaw,
  };

  const attn = raw.attn_layers;
  if (!Array.isArray(attn) || !attn.every((i) => Number.isSafeInteger(i) && i >= 0 && i < nLayer)) {
    r.fail('attn_layers', `a list of layer indices in [0, ${nLayer}) (n_layer = ${nLayer})`);
  }
  const attnLayers = [...new Set(attn as number[])].sort((a, b) => a - b);
  if (attnLayers.length !== (attn as number[]).length) r.fail('attn_layers', 'a list of distinct layer indices');
  const isAttn = new Set(attnLayers);
  const ssmLayers = Array.from({ length: nLayer }, (_, i) => i).filter((i) => !isAttn.has(i));

  // The mixer groups channels in blocks of d_state and repeats x/B from d_xb up to d_inner channels.
  if (dInner % dXb !== 0) r.fail('d_xb', `a divisor of d_inner (${dInner}) so x/B can be repeated up to d_inner`);
  if (dXb % dState !== 0) r.fail('d_xb', `a multiple of ssm_cfg.d_state (${dState})`);
  if (dInner % dState !== 0) r.fail('d_inner', `a multiple of ssm_cfg.d_state (${dState})`);
  if (variant === 'mamba2') {
    if (ssm.headdim * ngroups !== dInner) {
      throw new CheckpointError('BAD_CONFIG', `${source}: ssm_cfg.ngroups (${ngroups}) × head dim (${ssm.headdim}) must equal d_inner (${dInner}) for the Mamba-2 mixer`, { path: source });
    }
    if (ngroups % (dXb / dState) !== 0) {
      throw new CheckpointError('BAD_CONFIG', `${source}: ssm_cfg.ngroups (${ngroups}) must be a multiple of d_xb / d_state (${dXb / dState} KV heads)`, { path: source });
    }
  }
  return {
    variant,
    dModel,
    dInner,
    dXb,
    nLayer,
    attnLayers,
    ssmLayers,
    intermediateSize: r.int('intermediate_size'),
    hiddenAct: r.string('hidden_act', 'silu'),
    rmsNormEps: r.positive('rms_norm_eps', 1e-5),
    vocabSize: vocabSizeOf(r, opts.vocabSize),
    ssm,
    raw,
  };
}

/**
 * The `mamba_config.json` object for a HybridConfig (reference field order; unknown fields of `raw` kept).
 * `ssm_cfg` keeps what it had and gains the variant-specific sizes only when they differ from the defaults.
 *
 * @example
 * JSON.stringify(hybridConfigToJson(h), null, 2)
 */
export function hybridConfigToJson(cfg: HybridConfig): Record<string, unknown> {
  const ssmRaw: Json = { ...(cfg.ssm.raw ?? {}) };
  const setIf = (key: string, value: number, fallback: number): void => {
    if (key in ssmRaw || value !== fallback) ssmRaw[key] = value;
  };
  setIf('expand', cfg.ssm.expand, 1);
  setIf('d_state', cfg.ssm.dState, cfg.variant === 'mamba1' ? 16 : 128);
  setIf('d_conv', cfg.ssm.dConv, 4);
  if (cfg.variant === 'mamba1') {
    if ('dt_rank' in ssmRaw && ssmRaw.dt_rank === 'auto' && cfg.ssm.dtRank === Math.ceil(cfg.dModel / 16)) ssmRaw.dt_rank = 'auto';
    else setIf('dt_rank', cfg.ssm.dtRank, Math.ceil(cfg.dModel / 16));
  } else {
    // ngroups marks a Mamba-2 config when ssm_cfg.layer is absent, so always write it
    ssmRaw.ngroups = cfg.ssm.ngroups;
    setIf('headdim', cfg.ssm.headdim, cfg.ssm.dState);
  }
  const ordered: Json = {
    d_model: cfg.dModel,
    ssm_cfg: ssmRaw,
    rms_norm_eps: cfg.rmsNormEps,
    // a config read with "vocab_size": null (the reference's own files) is written back the same way
    vocab_size: cfg.raw?.vocab_size === null ? null : cfg.vocabSize,
    d_inner: cfg.dInner,
    d_xb: cfg.dXb,
    intermediate_size: cfg.intermediateSize,
    hidden_act: cfg.hiddenAct,
    n_layer: cfg.nLayer,
    attn_layers: [...cfg.attnLayers],
  };
  return { ...ordered, ...Object.fromEntries(Object.entries(cfg.raw ?? {}).filter(([k]) => !(k in ordered))) };
}

/**
 * Checks that a hybrid config fits the teacher it was distilled from (same width, depth, vocabulary and
 * MLP, and x/B/C sized like V/K/Q so the attention weights can initialise them). Throws BAD_CONFIG.
 *
 * @example checkHybridMatchesTeacher(parseMambaHybridConfig(m), parseLlamaConfig(c));
 */
export function checkHybridMatchesTeacher(hybrid: HybridConfig, teacher: LlamaConfig, source = 'mamba_config.json'): void {
  const pairs: [string, number, string, number][] = [
    ['d_model', hybrid.dModel, 'hidden_size', teacher.hiddenSize],
    ['n_layer', hybrid.nLayer, 'num_hidden_layers', teacher.numHiddenLayers],
    ['vocab_size', hybrid.vocabSize, 'vocab_size', teacher.vocabSize],
    ['intermediate_size', hybrid.intermediateSize, 'intermediate_size', teacher.intermediateSize],
    ['d_inner', hybrid.dInner, 'num_attention_heads × head_dim', teacher.numAttentionHeads * teacher.headDim],
    ['d_xb', hybrid.dXb, 'num_key_value_heads × head_dim', teacher.numKeyValueHeads * teacher.headDim],
    ['rms_norm_eps', hybrid.rmsNormEps, 'rms_norm_eps', teacher.rmsNormEps],
  ];
  for (const [hk, hv, tk, tv] of pairs) {
    if (hv !== tv) throw new CheckpointError('BAD_CONFIG', `${source}: ${hk} = ${hv} but the teacher config has ${tk} = ${tv}; they must match`, { path: source });
  }
}
