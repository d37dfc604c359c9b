/**
 * Multi-step verification for speculative decoding with lazy state advance (paper Algorithm 2 and the fused
 * `selective_state_update_multi_cached_fused` kernel of speculative_mamba; reference dossier §4.2–4.3).
 *
 * The target keeps per Mamba layer ONE advanced state plus a snapshot and the previous call's per-step inputs:
 *   state      (b, d, n)  / Mamba-2 (b, h, p, n): state after ALL inputs of the last call (may include rejected ones)
 *   snapshot   same shape: state before the last call's inputs ("ssm_state_initial")
 *   cache      the last call's per-step SSM inputs, one slot per step (C and z are not cached: replayed steps emit
 *              nothing). Mamba-1: x = conv OUTPUT (b, T', d), delta = raw δ before bias / softplus (b, T', d),
 *              B (b, T', g, n). Mamba-2: x (b, T', h, p), dt = raw dt (b, T', h), B (b, T', g, n).
 * One call takes T = K + 1 new inputs (the last accepted-but-unprocessed token, then the K drafts) and
 * `recomputeSteps` r per batch element:
 *   1. r ≥ 0 (last round accepted a = r < K drafts): start from `snapshot`, replay cache slots 0..r (the previously
 *      verified token + r accepted drafts) without outputs; r = −1 (last round accepted all K): start from `state`.
 *   2. the current state becomes the new snapshot (= state after the accepted prefix).
 *   3. the T new steps run with outputs; their x / δ / B become the new cache.
 *   4. the final state becomes the new `state`.
 * Map from acceptance to r: {@link recomputeStepsAfter}. The conv part is `causalConv1dRing` (counter advanced by
 * a + 1 after a round that accepted a drafts); `x` here is already the conv output.
 * Precision: `x` is the primary input; float32 mode keeps fp32 states, and replay is bit-identical to the
 * original steps (same arithmetic, same order).
 */
import {
  type FloatArray,
  type IndexArray,
  allocLike,
  checkDim,
  checkFloat,
  checkIndexArray,
  copyLike,
} from './common';
import { SsmKernelError } from '../errors';
import { type Mamba1Params, checkMamba1Params, mamba1Advance } from './mamba1';
import { type Mamba2Params, checkMamba2Params, mamba2Advance } from './mamba2';

/** The previous call's Mamba-1 per-step inputs (T' = cacheLen slots). */
export interface Mamba1VerifyCache {
  /** (b, T', d) conv output x. */
  x: FloatArray;
  /** (b, T', d) raw δ (before deltaBias and softplus). */
  delta: FloatArray;
  /** (b, T', g, n) */
  B: FloatArray;
}

/** The previous call's Mamba-2 per-step inputs (T' = cacheLen slots). */
export interface Mamba2VerifyCache {
  /** (b, T', h, p) */
  x: FloatArray;
  /** (b, T', h) raw dt (before dtBias, softplus and clamp). */
  dt: FloatArray;
  /** (b, T', g, n) */
  B: FloatArray;
}

/** Fields common to both verify forms. */
interface VerifyCommon<Cache> {
  batch: number;
  /** New steps T (= K + 1). */
  seqLen: number;
  /**
   * r per batch element (a number applies to all): −1 = start from `state`; 0 ≤ r < cacheLen = start from
   * `snapshot` and replay cache slots 0..r.
   */
  recomputeSteps: number | IndexArray;
  /** State after all inputs of the previous call; not modified. */
  state: FloatArray;
  /** State before the previous call's inputs; required when some r ≥ 0. Not modified. */
  snapshot?: FloatArray;
  /** The previous call's inputs; required when some r ≥ 0. */
  cache?: Cache;
  /** Slots in `cache`; default `seqLen` (the previous call had as many steps as this one). */
  cacheLen?: number;
  /** (b, T, g, n) */
  B: FloatArray;
  /** (b, T, g, n) */
  C: FloatArray;
}

/** Input of {@link multiStepVerify} (Mamba-1). */
export interface MultiStepVerifyInput extends Mamba1Params, VerifyCommon<Mamba1VerifyCache> {
  /** (b, T, d) conv output of the new steps; primary input. */
  x: FloatArray;
  /** (b, T, d) raw δ of the new steps. */
  delta: FloatArray;
  /** (b, T, d) gate; omitted = no gate. */
  z?: FloatArray;
}

/** Input of {@link mamba2MultiStepVerify}. */
export interface Mamba2MultiStepVerifyInput extends Mamba2Params, VerifyCommon<Mamba2VerifyCache> {
  /** (b, T, h, p) primary input. */
  x: FloatArray;
  /** (b, T, h) raw dt of the new steps. */
  dt: FloatArray;
  /** (b, T, h, p) gate; omitted = no gate. */
  z?: FloatArray;
}

/** Output of a verify call: what the next call needs, plus the outputs of the new steps. */
export interface MultiStepVerifyResult<Cache> {
  /** (b, T, d) / (b, T, h, p) outputs of the T new steps. */
  y: FloatArray;
  /** State after all T new steps. */
  state: FloatArray;
  /** State after the accepted prefix, before the T new steps. */
  snapshot: FloatArray;
  /** The T new steps' inputs (copies, in their own precision): the next call's cache, cacheLen = T. */
  cache: Cache;
}

/**
 * r for the next verify call after a round that accepted `accepted` of `numDrafts` drafts:
 * `accepted` when some draft was rejected (replay the verified token + accepted drafts), −1 when all were accepted.
 *
 * @example
 * recomputeStepsAfter(2, 4); // 2
 * recomputeStepsAfter(4, 4); // -1
 */
export function recomputeStepsAfter(accepted: number, numDrafts: number): number {
  checkDim('recomputeStepsAfter', 'numDrafts', numDrafts, 0);
  if (!Number.isInteger(accepted) || accepted < 0 || accepted > numDrafts) {
    throw new SsmKernelError(
      'BAD_OPTION',
      `recomputeStepsAfter: 'accepted' must be an integer in [0, ${numDrafts}], got ${String(accepted)}`,
    );
  }
  return accepted === numDrafts ? -1 : accepted;
}

/** Checks the shared fields and returns r per batch element and whether the cache is needed. */
function checkVerifyCommon(
  fn: string,
  input: VerifyCommon<unknown>,
  stateShape: Record<string, number>,
): { b: number; T: number; Tc: number; rs: number[]; snapshot?: FloatArray } {
  const b = checkDim(fn, 'batch', input.batch);
  const T = checkDim(fn, 'seqLen', input.seqLen);
  const Tc = checkDim(fn, 'cacheLen', input.cacheLen ?? T);
  const rsIn = input.recomputeSteps;
  const rs = typeof rsIn === 'number' ? new Array<number>(b).fill(rsIn) : checkIndexArray(fn, 'recomputeSteps', rsIn, b);
  for (let i = 0; i < b; i++) {
    if (!Number.isInteger(rs[i]) || rs[i] < -1 || rs[i] >= Tc) {
      throw new SsmKernelError(
        'BAD_OPTION',
        `${fn}: 'recomputeSteps' for batch element ${i} must be an integer in [-1, ${Tc - 1}] (cacheLen ${Tc}), got ${rs[i]}`,
      );
    }
  }
  checkFloat(fn, 'state', input.state, stateShape);
  const needCache = rs.some((r) => r >= 0);
  let snapshot: FloatArray | undefined;
  if (needCache) {
    if (input.snapshot === undefined || input.cache === undefined) {
      throw new SsmKernelError(
        'BAD_OPTION',
        `${fn}: 'snapshot' and 'cache' are required when some recomputeSteps >= 0`,
      );
    }
    snapshot = checkFloat(fn, 'snapshot', input.snapshot, stateShape);
  }
  return { b, T, Tc, rs, snapshot };
}

/**
 * Runs the replay / snapshot / new-steps sequence for every batch element. `replay(bi, slot, cur)` and
 * `step(bi, t, cur)` advance the `size`-value state `cur` of element bi in place.
 */
function drive(
  like: FloatArray,
  b: number,
  T: number,
  size: number,
  rs: number[],
  state: FloatArray,
  snapshot: FloatArray | undefined,
  replay: (bi: number, slot: number, cur: FloatArray) => void,
  step: (bi: number, t: number, cur: FloatArray) => void,
): { state: FloatArray; snapshot: FloatArray } {
  const outState = allocLike(like, b * size);
  const outSnap = allocLike(like, b * size);
  for (let bi = 0; bi < b; bi++) {
    const r = rs[bi];
    const src = r >= 0 ? (snapshot as FloatArray) : state;
    const cur = copyLike(like, src.subarray(bi * size, (bi + 1) * size));
    for (let slot = 0; slot <= r; slot++) replay(bi, slot, cur);
    outSnap.set(cur, bi * size);
    for (let t = 0; t < T; t++) step(bi, t, cur);
    outState.set(cur, bi * size);
  }
  return { state: outState, snapshot: outSnap };
}

/**
 * Mamba-1 multi-step verify: replay r + 1 cached steps from the snapshot (or continue from `state` when r = −1),
 * snapshot, run the T new steps with outputs, return outputs, new state, new snapshot and new cache.
 * Equals plain sequential `mamba1Step`s over the accepted prefix and the new inputs.
 *
 * @example
 * // first call after prefill (nothing to replay): r = −1, T = K + 1
 * const first = multiStepVerify({ ...params, batch: 1, seqLen: K + 1, recomputeSteps: -1,
 *   state: prefillState, x, delta, B, C, z });
 * // the verifier accepted a of K drafts:
 * const next = multiStepVerify({ ...params, batch: 1, seqLen: K + 1, recomputeSteps: recomputeStepsAfter(a, K),
 *   state: first.state, snapshot: first.snapshot, cache: first.cache, x: x2, delta: delta2, B: B2, C: C2, z: z2 });
 */
export function multiStepVerify(input: MultiStepVerifyInput): MultiStepVerifyResult<Mamba1VerifyCache> {
  const fn = 'multiStepVerify';
  const p = checkMamba1Params(fn, input);
  const { dim: d, dState: n, nGroups: g } = p;
  const { b, T, Tc, rs, snapshot } = checkVerifyCommon(fn, input, { b: input.batch, d, n });
  const x = checkFloat(fn, 'x', input.x, { b, T, d });
  const delta = checkFloat(fn, 'delta', input.delta, { b, T, d });
  const B = checkFloat(fn, 'B', input.B, { b, T, g, n });
  const C = checkFloat(fn, 'C', input.C, { b, T, g, n });
  const z = input.z === undefined ? undefined : checkFloat(fn, 'z', input.z, { b, T, d });
  let cache: Mamba1VerifyCache | undefined;
  if (snapshot) {
    const c = input.cache as Mamba1VerifyCache;
    cache = {
      x: checkFloat(fn, 'cache.x', c.x, { b, T: Tc, d }),
      delta: checkFloat(fn, 'cache.delta', c.delta, { b, T: Tc, d }),
      B: checkFloat(fn, 'cache.B', c.B, { b, T: Tc, g, n }),
    };
  }
  const y = allocLike(x, b * T * d);
  const out = drive(
    x, b, T, d * n, rs, input.state, snapshot,
    (bi, slot, cur) => {
      const c = cache as Mamba1VerifyCache;
      const row = (bi * Tc + slot) * d;
      const grp = (bi * Tc + slot) * g * n;
      mamba1Advance(p, cur, 0, c.x, row, c.delta, row, c.B, grp, null, 0, undefined, 0, null, 0);
    },
    (bi, t, cur) => {
      const row = (bi * T + t) * d;
      const grp = (bi * T + t) * g * n;
      mamba1Advance(p, cur, 0, x, row, delta, row, B, grp, C, grp, z, row, y, row);
    },
  );
  return { y, ...out, cache: { x: x.slice(), delta: delta.slice(), B: B.slice() } };
}

/**
 * Mamba-2 multi-step verify (the same protocol as {@link multiStepVerify}, with Mamba-2 per-head steps; the
 * analogue of speculative_mamba's `…_multihead_cached_fused`). Equals plain sequential `mamba2Step`s.
 *
 * @example
 * const r = mamba2MultiStepVerify({ ...mamba2Params, batch: 1, seqLen: K + 1, recomputeSteps: -1,
 *   state: prefillState, x, dt, B, C });
 */
export function mamba2MultiStepVerify(
  input: Mamba2MultiStepVerifyInput,
): MultiStepVerifyResult<Mamba2VerifyCache> {
  const fn = 'mamba2MultiStepVerify';
  const p = checkMamba2Params(fn, input);
  const { nHeads: h, headDim: P, dState: n, nGroups: g } = p;
  const { b, T, Tc, rs, snapshot } = checkVerifyCommon(fn, input, { b: input.batch, h, p: P, n });
  const x = checkFloat(fn, 'x', input.x, { b, T, h, p: P });
  const dt = checkFloat(fn, 'dt', input.dt, { b, T, h });
  const B = checkFloat(fn, 'B', input.B, { b, T, g, n });
  const C = checkFloat(fn, 'C', input.C, { b, T, g, n });
  const z = input.z === undefined ? undefined : checkFloat(fn, 'z', input.z, { b, T, h, p: P });
  let cache: Mamba2VerifyCache | undefined;
  if (snapshot) {
    const c = input.cache as Mamba2VerifyCache;
    cache = {
      x: checkFloat(fn, 'cache.x', c.x, { b, T: Tc, h, p: P }),
      dt: checkFloat(fn, 'cache.dt', c.dt, { b, T: Tc, h }),
      B: checkFloat(fn, 'cache.B', c.B, { b, T: Tc, g, n }),
    };
  }
  const y = allocLike(x, b * T * h * P);
  const out = drive(
    x, b, T, h * P * n, rs, input.state, snapshot,
    (bi, slot, cur) => {
      const c = cache as Mamba2VerifyCache;
      const bt = bi * Tc + slot;
      mamba2Advance(p, cur, 0, c.x, bt * h * P, c.dt, bt * h, c.B, bt * g * n, null, 0, undefined, 0, null, 0);
    },
    (bi, t, cur) => {
      const bt = bi * T + t;
      mamba2Advance(p, cur, 0, x, bt * h * P, dt, bt * h, B, bt * g * n, C, bt * g * n, z, bt * h * P, y, bt * h * P);
    },
  );
  return { y, ...out, cache: { x: x.slice(), dt: dt.slice(), B: B.slice() } };
}
