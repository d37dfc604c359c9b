import { ModelsError } from '../errors';

/** One layer's cache: keys (after RoPE, as HF caches them) and values, each `[batch, numKvHeads, length, headDim]`. */
export interface KvCacheLayer {
  readonly key: Float64Array;
  readonly value: Float64Array;
}

/**
 * The oracle's KV cache. Immutable: a forward returns a new cache and leaves the one passed in valid,
 * so a caller can roll back (speculative decoding) by keeping the old object or by `truncateKvCache`.
 * Layout per layer is `[batch, numKvHeads, length, headDim]`, the layout of transformers.js `present.{i}.key`.
 */
export interface KvCache {
  readonly batch: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  /** Positions cached, the same for every sequence of the batch. */
  readonly length: number;
  readonly layers: readonly KvCacheLayer[];
}

/**
 * An empty cache for `numLayers` layers.
 *
 * @example
 * const cache = emptyKvCache(2, 1, 2, 8); // 2 layers, batch 1, 2 kv heads, head_dim 8
 */
export function emptyKvCache(numLayers: number, batch: number, numKvHeads: number, headDim: number): KvCache {
  const layers: KvCacheLayer[] = [];
  for (let l = 0; l < numLayers; l++) layers.push({ key: new Float64Array(0), value: new Float64Array(0) });
  return { batch, numKvHeads, headDim, length: 0, layers };
}

/**
 * The first `length` positions of a cache (a new cache; the input is untouched).
 *
 * @example
 * const rolledBack = truncateKvCache(out.cache, out.cache.length - 3); // drop 3 rejected draft tokens
 */
export function truncateKvCache(cache: KvCache, length: number): KvCache {
  if (!Number.isInteger(length) || length < 0 || length > cache.length) {
    throw new ModelsError('BAD_CACHE', `truncateKvCache: length must be an integer in [0, ${cache.length}], got ${length}`);
  }
  const { batch, numKvHeads: h, headDim: d } = cache;
  const layers = cache.layers.map((layer) => ({
    key: sliceSeq(layer.key, batch * h, cache.length, length, d),
    value: sliceSeq(layer.value, batch * h, cache.length, length, d),
  }));
  return { batch, numKvHeads: h, headDim: d, length, layers };
}

function sliceSeq(src: Float64Array, rows: number, oldLen: number, newLen: number, d: number): Float64Array {
  const out = new Float64Array(rows * newLen * d);
  for (let r = 0; r < rows; r++) out.set(src.subarray(r * oldLen * d, r * oldLen * d + newLen * d), r * newLen * d);
  return out;
}

/**
 * Appends `added` positions to one layer's key or value tensor: `old [rows, oldLen, d]` + `extra [rows, added, d]`.
 * @internal
 */
export function appendSeq(
  old: Float64Array,
  extra: Float64Array,
  rows: number,
  oldLen: number,
  added: number,
  d: number,
): Float64Array {
  const newLen = oldLen + added;
  const out = new Float64Array(rows * newLen * d);
  for (let r = 0; r < rows; r++) {
    out.set(old.subarray(r * oldLen * d, (r + 1) * oldLen * d), r * newLen * d);
    out.set(extra.subarray(r * added * d, (r + 1) * added * d), r * newLen * d + oldLen * d);
  }
  return out;
}
