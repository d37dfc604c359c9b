/**
 * Chunked SSD (Mamba-2 "state space duality") in plain TypeScript: the reference that the training graph mirrors.
 * Same inputs, layouts and result as `mamba2Scan` (see mamba2.ts), plus `chunkSize`; equals the sequential scan.
 *
 * Per batch element and head, with a_t = Δ_t · A (≤ 0), the sequence is cut into chunks of Q = chunkSize steps
 * (the last chunk may be shorter; Q > L gives one chunk). Inside a chunk (local steps 0..len-1):
 *   segsum[t][s] = Σ_{k=s+1..t} a_k           (s ≤ t; the total decay from step s to step t)
 *   S_t          = Σ_{k=0..t} a_k             (decay from the chunk's entry state to step t)
 *   1. intra-chunk (masked "attention"):  Y_diag[t] = Σ_{s≤t} (C_t · B_s) · exp(segsum[t][s]) · Δ_s · x_s
 *   2. chunk state:                        Z = Σ_s exp(segsum[len-1][s]) · Δ_s · x_s ⊗ B_s
 *   3. inter-chunk passing:                H_next = exp(S_{len-1}) · H + Z    (H_0 = initialState; last H = final state)
 *   4. state → output:                     Y_off[t] = exp(S_t) · H · C_t
 *   y = Y_diag + Y_off + D · x, then ⊙ silu(z) if z is given.
 * segsum is summed directly (the "stable" segsum of `ssd_minimal`: a masked cumsum of a, never a difference of two
 * large cumulative sums), so extreme Δ cost no precision. Float32 mode keeps the passed chunk states in fp32 (as the
 * Triton `_state_passing_fwd` does); everything inside a chunk is float64.
 */
import { silu } from './activations';
import { allocLike, checkDim } from './common';
import { type Mamba2ScanInput, type Mamba2ScanResult, checkMamba2ScanInput, mamba2Delta, mamba2Skip } from './mamba2';

/** Input of {@link ssdChunked}: a {@link Mamba2ScanInput} plus the chunk length. */
export interface SsdChunkedInput extends Mamba2ScanInput {
  /** Chunk length Q ≥ 1 (upstream Mamba-2 uses 256). L need not be a multiple of it. */
  chunkSize: number;
}

/**
 * Mamba-2 over a whole sequence by the chunked SSD algorithm (intra-chunk masked matmul with exp(segment-sum)
 * decay, chunk states, inter-chunk state passing). Same result as `mamba2Scan` up to rounding.
 *
 * @example
 * const { y, finalState } = ssdChunked({
 *   batch: 1, seqLen: 5, chunkSize: 2, nHeads: 1, headDim: 2, dState: 2, nGroups: 1, dtSoftplus: true,
 *   x: new Float64Array(10).fill(1), dt: new Float64Array(5), A: Float64Array.of(-1),
 *   B: new Float64Array(10).fill(1), C: new Float64Array(10).fill(1),
 * });
 */
export function ssdChunked(input: SsdChunkedInput): Mamba2ScanResult {
  const fn = 'ssdChunked';
  const { b, L, x, dt, B, C, z, state } = checkMamba2ScanInput(fn, input);
  const Q = checkDim(fn, 'chunkSize', input.chunkSize);
  const { nHeads: h, headDim: P, dState: n, nGroups: g } = input;
  const perGroup = h / g;
  const y = allocLike(x, b * L * h * P);

  // Scratch sized for one chunk.
  const delta = new Float64Array(Q);
  const a = new Float64Array(Q);
  const S = new Float64Array(Q);
  const seg = new Float64Array(Q * Q); // seg[t*Q + s] = Σ_{k=s+1..t} a_k
  const cb = new Float64Array(Q * Q); // cb[t*Q + s] = C_t · B_s
  const Z = new Float64Array(P * n);

  for (let bi = 0; bi < b; bi++) {
    for (let hh = 0; hh < h; hh++) {
      const gi = Math.floor(hh / perGroup);
      const sOff = (bi * h + hh) * P * n; // this head's (p, n) block of the passed state
      for (let c0 = 0; c0 < L; c0 += Q) {
        const len = Math.min(Q, L - c0);
        const bt = (t: number) => bi * L + c0 + t; // flat (batch, time) index of local step t
        for (let t = 0; t < len; t++) {
          delta[t] = mamba2Delta(input, hh, dt[bt(t) * h + hh]);
          a[t] = delta[t] * input.A[hh];
          S[t] = (t > 0 ? S[t - 1] : 0) + a[t];
        }
        for (let t = 0; t < len; t++) {
          seg[t * Q + t] = 0;
          for (let s = t - 1; s >= 0; s--) seg[t * Q + s] = seg[t * Q + s + 1] + a[s + 1];
          const cOff = (bt(t) * g + gi) * n;
          for (let s = 0; s <= t; s++) {
            const bOff = (bt(s) * g + gi) * n;
            let dot = 0;
            for (let k = 0; k < n; k++) dot += C[cOff + k] * B[bOff + k];
            cb[t * Q + s] = dot;
          }
        }
        // 1 + 4: outputs of this chunk (state H read before it is advanced).
        for (let t = 0; t < len; t++) {
          const cOff = (bt(t) * g + gi) * n;
          const entryDecay = Math.exp(S[t]);
          for (let i = 0; i < P; i++) {
            let diag = 0;
            for (let s = 0; s <= t; s++) {
              diag += cb[t * Q + s] * Math.exp(seg[t * Q + s]) * delta[s] * x[(bt(s) * h + hh) * P + i];
            }
            let off = 0;
            const row = sOff + i * n;
            for (let k = 0; k < n; k++) off += state[row + k] * C[cOff + k];
            const xi = (bt(t) * h + hh) * P + i;
            let out = diag + entryDecay * off + mamba2Skip(input, hh, i) * x[xi];
            if (z) out *= silu(z[xi]);
            y[xi] = out;
          }
        }
        // 2: this chunk's own contribution to the state at its end.
        Z.fill(0);
        for (let s = 0; s < len; s++) {
          const w = Math.exp(seg[(len - 1) * Q + s]) * delta[s];
          const bOff = (bt(s) * g + gi) * n;
          for (let i = 0; i < P; i++) {
            const wx = w * x[(bt(s) * h + hh) * P + i];
            for (let k = 0; k < n; k++) Z[i * n + k] += wx * B[bOff + k];
          }
        }
        // 3: pass the state over the chunk.
        const chunkDecay = Math.exp(S[len - 1]);
        for (let j = 0; j < P * n; j++) state[sOff + j] = chunkDecay * state[sOff + j] + Z[j];
      }
    }
  }
  return { y, finalState: state };
}
