// The whole hybrid student in plain TypeScript (float64): the oracle every student graph is checked against.
import type { HybridConfig, LlamaConfig } from '@mil/checkpoint';
import type { KvCacheLayer } from '../oracle/kv-cache';
import { decoderLayer, embedTokens, linear, mlpResidual } from '../oracle/llama-oracle';
import { readLayerWeights, readWeight, type LayerWeights, type WeightSource } from '../oracle/llama-weights';
import { ModelsError } from '../errors';
import { rmsNormRows } from '../oracle/rms-norm';
import { ropeInvFreq } from '../oracle/rope';
import { resolveHybridDims, type HybridDims, type HybridModelOptions } from './hybrid-dims';
import {
  checkMambaState,
  emptyMambaState,
  mamba1MixerOracle,
  mamba2MixerOracle,
  readMambaWeights,
  type MambaLayerState,
  type MambaWeights,
} from './oracle-mixers';

export type { MambaLayerState } from './oracle-mixers';

/** One layer's state in the oracle: the KV cache of an attention layer or the conv + SSM state of a Mamba layer. */
export type HybridLayerState = ({ kind: 'attention' } & KvCacheLayer) | ({ kind: 'mamba' } & MambaLayerState);

/** The oracle's state after some tokens. Immutable: a forward returns a new one. */
export interface HybridOracleState {
  readonly batch: number;
  /** Tokens seen, the same for every sequence of the batch. */
  readonly length: number;
  /** Indexed by layer. */
  readonly layers: readonly HybridLayerState[];
}

export interface HybridOracleOptions extends HybridModelOptions {
  /** The state after earlier tokens; the new ones continue after `state.length`. */
  state?: HybridOracleState;
  /** The attention layers' cached keys / values exact (default) or rounded to float16 (`llamaOracleForward`'s option). */
  kvDtype?: 'float32' | 'float16';
}

export interface HybridOracleOutput {
  /** Row-major [batch, L, vocab], float64. */
  logits: Float64Array;
  dims: [batch: number, length: number, vocab: number];
  /** The state after these tokens (the input state is not changed). */
  state: HybridOracleState;
}

/**
 * An empty state (no tokens) for `batch` sequences.
 *
 * @example
 * const s0 = emptyHybridState(teacher, hybrid, 1);
 */
export function emptyHybridState(teacher: LlamaConfig, hybrid: HybridConfig, batch: number): HybridOracleState {
  const dims = resolveHybridDims(teacher, hybrid);
  const layers: HybridLayerState[] = [];
  for (let i = 0; i < dims.nLayer; i++) {
    layers.push(dims.isMamba(i) ? { kind: 'mamba', ...emptyMambaState(dims, batch) } : { kind: 'attention', key: new Float64Array(0), value: new Float64Array(0) });
  }
  return { batch, length: 0, layers };
}

interface LoadedHybridWeights {
  embed: Float64Array;
  norm: Float64Array;
  lmHead: Float64Array;
  layers: ({ kind: 'attention'; w: LayerWeights } | { kind: 'mamba'; mixer: MambaWeights; mlp: LayerWeights })[];
}

function loadWeights(dims: HybridDims, source: WeightSource): LoadedHybridWeights {
  const r = dims.teacher;
  const embed = readWeight(source, 'model.embed_tokens.weight', r.vocabSize * r.hiddenSize);
  const layers: LoadedHybridWeights['layers'] = [];
  for (let i = 0; i < dims.nLayer; i++) {
    if (dims.isMamba(i)) layers.push({ kind: 'mamba', mixer: readMambaWeights(dims, source, i), mlp: readLayerWeights(r, source, i, false) });
    else layers.push({ kind: 'attention', w: readLayerWeights(r, source, i, true) });
  }
  return {
    embed,
    norm: readWeight(source, 'model.norm.weight', r.hiddenSize),
    lmHead: r.tieWordEmbeddings ? embed : readWeight(source, 'lm_head.weight', r.vocabSize * r.hiddenSize),
    layers,
  };
}

/** A Mamba decoder layer on h [batch, L, d] in place: pre-norm → mixer → residual → norm → SwiGLU → residual. */
function mambaDecoderLayer(
  dims: HybridDims,
  w: { mixer: MambaWeights; mlp: LayerWeights },
  h: Float64Array,
  batch: number,
  len: number,
  past: MambaLayerState,
  opts: HybridModelOptions,
): MambaLayerState {
  const r = dims.teacher;
  const rows = batch * len;
  const u = rmsNormRows(h, rows, w.mlp.inputNorm, r.rmsNormEps);
  const mixed =
    dims.variant === 'mamba1'
      ? mamba1MixerOracle(dims, w.mixer, u, batch, len, past, opts.mamba1DtBias ?? 'double')
      : mamba2MixerOracle(dims, w.mixer, u, batch, len, past);
  for (let i = 0; i < h.length; i++) h[i] += mixed.y[i];
  mlpResidual(r, w.mlp, h, rows);
  return mixed.state;
}

/**
 * The hybrid student's forward in float64: embeddings → per layer the teacher's attention layer (kept layers)
 * or [RMSNorm → Mamba-1/Mamba-2 mixer → residual → RMSNorm → SwiGLU → residual] → RMSNorm → LM head.
 * Weights by reference name (either Mamba-1 layout). Continuing from `opts.state` equals recomputing from scratch.
 *
 * @example
 * const w = randomHybridWeights(teacher, hybrid, 1);
 * const full = hybridOracleForward(teacher, hybrid, (n) => w.get(n), [[5, 6, 7]]);
 * const step = hybridOracleForward(teacher, hybrid, (n) => w.get(n), [[8]], { state: full.state });
 */
export function hybridOracleForward(
  teacher: LlamaConfig,
  hybrid: HybridConfig,
  weights: WeightSource,
  inputIds: number[][],
  opts: HybridOracleOptions = {},
): HybridOracleOutput {
  const dims = resolveHybridDims(teacher, hybrid);
  const r = dims.teacher;
  const batch = inputIds.length;
  const len = inputIds[0]?.length ?? 0;
  if (batch === 0 || len === 0) throw new ModelsError('BAD_INPUT', 'inputIds: expected at least one sequence of at least one token');
  inputIds.forEach((row, b) => {
    if (row.length !== len) throw new ModelsError('BAD_INPUT', `inputIds[${b}]: expected ${len} tokens like inputIds[0], got ${row.length}`);
    for (const id of row) if (!Number.isInteger(id) || id < 0 || id >= r.vocabSize) throw new ModelsError('BAD_INPUT', `inputIds[${b}]: token ${id} is not in [0, ${r.vocabSize})`);
  });
  const state = opts.state ?? emptyHybridState(teacher, hybrid, batch);
  if (state.batch !== batch || state.layers.length !== dims.nLayer) {
    throw new ModelsError('BAD_CACHE', `state: expected batch ${batch} and ${dims.nLayer} layers, got batch ${state.batch} and ${state.layers.length} layers`);
  }
  const w = loadWeights(dims, weights);
  const invFreq = ropeInvFreq(r.headDim, r.ropeTheta, r.ropeScaling);
  const d = r.hiddenSize;
  const h = embedTokens(w.embed, d, inputIds);
  const positions = Array.from({ length: batch }, () => Array.from({ length: len }, (_, t) => state.length + t));
  const next: HybridLayerState[] = [];
  for (let i = 0; i < dims.nLayer; i++) {
    const lw = w.layers[i];
    const past = state.layers[i];
    if (lw.kind === 'attention') {
      if (past.kind !== 'attention') throw new ModelsError('BAD_CACHE', `state.layers[${i}]: expected an attention KV cache`);
      const size = batch * r.numKeyValueHeads * state.length * r.headDim;
      if (past.key.length !== size || past.value.length !== size) throw new ModelsError('BAD_CACHE', `state.layers[${i}]: expected ${size} key and value elements`);
      next.push({ kind: 'attention', ...decoderLayer(r, lw.w, h, batch, len, positions, invFreq, past, state.length, opts.kvDtype) });
    } else {
      if (past.kind !== 'mamba') throw new ModelsError('BAD_CACHE', `state.layers[${i}]: expected a Mamba conv + SSM state`);
      checkMambaState(dims, past, batch, i);
      next.push({ kind: 'mamba', ...mambaDecoderLayer(dims, lw, h, batch, len, past, opts) });
    }
  }
  const rows = batch * len;
  return {
    logits: linear(rmsNormRows(h, rows, w.norm, r.rmsNormEps), rows, d, w.lmHead, r.vocabSize, null),
    dims: [batch, len, r.vocabSize],
    state: { batch, length: state.length + len, layers: next },
  };
}
