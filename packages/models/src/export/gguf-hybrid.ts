// A Mamba-2 hybrid student as llama.cpp's `granitehybrid` architecture (Granite 4.0-H: per layer either a Mamba-2
// mixer or attention, each followed by a SwiGLU MLP; RoPE on, Granite's multipliers absent = 1).
//
// Our Mamba-2 mixer differs from the standard one in two ways, both exactly representable:
//  - x̃ and B̃ come out of in_proj with the teacher's KV width (d_xb) and are repeated to every head / group after the
//    depthwise conv + SiLU. Repeating commutes with a per-channel conv, so the export repeats the in_proj rows and the
//    conv channels instead: a standard Mamba-2 with ngroups = heads.
//  - llama.cpp requires ssm.inner_size = 2 × embedding_length (GGML_ASSERT in llama_model_granite_hybrid's tensor
//    loader); ours is heads × head_dim (= embedding_length for Llama teachers). The export adds all-zero heads (one
//    group each, so the grouped RMSNorm of the real heads is untouched) whose out_proj columns are zero: the output
//    is unchanged, the mixer does twice the work in llama.cpp.
import type { LlamaConfig } from '@mil/checkpoint';
import { ModelsError } from '../errors';
import { resolveHybridDims, MAMBA2_NORM_EPS } from '../hybrid/hybrid-dims';
import type { HybridConfig } from '@mil/checkpoint';
import { llamaGgufTensors, type GgufDtype, type GgufEmitter } from './gguf-llama';
import type { GgufTensor, GgufValue } from './gguf-writer';

/** Rows `[from, from + n)` of a row-major matrix with `cols` columns. */
function rows(m: Float32Array, from: number, n: number, cols: number): Float32Array {
  return m.subarray(from * cols, (from + n) * cols);
}

/**
 * GGUF tensors and `granitehybrid.*` metadata of a Mamba-2 hybrid student (see the file comment for the mapping).
 *
 * @example
 * const { tensors, metadata } = hybridGgufTensors(teacher, hybrid, weights, 'f32');
 */
export function hybridGgufTensors(
  teacher: LlamaConfig,
  hybrid: HybridConfig,
  weights: ReadonlyMap<string, Float32Array>,
  dtype: GgufDtype,
  opts: { contextLength?: number } = {},
): { tensors: GgufTensor[]; metadata: [string, GgufValue][] } {
  const dims = resolveHybridDims(teacher, hybrid);
  const c = teacher;
  if (dims.variant !== 'mamba2') {
    throw new ModelsError(
      'BAD_OPTION',
      'GGUF export: Mamba-1 students have no llama.cpp architecture (llama.cpp\'s Mamba-1 computes B, C and Δ from the conv output through x_proj; ours project them from the layer input). Export them as ONNX.',
    );
  }
  const D = c.hiddenSize;
  const { dInner: di, dXb: dxb, nHeads: H, headDim: P, dState: N, nGroups: G, dConv: W } = dims;
  if (G !== H || P !== N) throw new ModelsError('BAD_CONFIG', `GGUF export: needs one B/C group per head and head_dim = d_state (got ${G} groups, ${H} heads, ${P}, ${N})`);
  if (Math.abs(c.rmsNormEps - MAMBA2_NORM_EPS) > 1e-12) {
    throw new ModelsError('BAD_CONFIG', `GGUF export: llama.cpp uses rms_norm_eps (${c.rmsNormEps}) for the Mamba-2 gated norm too; ours uses ${MAMBA2_NORM_EPS}`);
  }
  const di2 = 2 * D;
  if (di > di2 || (di2 - di) % P !== 0) throw new ModelsError('BAD_CONFIG', `GGUF export: d_inner ${di} cannot be padded to llama.cpp's 2 × hidden_size = ${di2} in heads of ${P}`);
  const H2 = di2 / P; // heads (= groups) after padding
  const rep = H / (dxb / P);
  const convCh = di2 + 2 * H2 * N;
  const mixer = (i: number, emit: GgufEmitter): boolean => {
    if (!dims.isMamba(i)) return false;
    const p = `model.layers.${i}.mamba`;
    const inProj = emit.get(`${p}.in_proj.weight`); // [z (di), x̃ (dxb), B̃ (dxb), C (di), dt (H)] × D
    const z = rows(inProj, 0, di, D);
    const x = rows(inProj, di, dxb, D);
    const b = rows(inProj, di + dxb, dxb, D);
    const cm = rows(inProj, di + 2 * dxb, di, D);
    const dt = rows(inProj, 2 * di + 2 * dxb, H, D);
    const inRows = 2 * di2 + 2 * H2 * N + H2;
    const ssmIn = new Float32Array(inRows * D);
    const convW = emit.get(`${p}.conv1d.weight`); // [channels (x̃, B̃, C), 1, W]
    const convB = emit.get(`${p}.conv1d.bias`);
    const cw = new Float32Array(convCh * W);
    const cb = new Float32Array(convCh);
    // Copies head h's P rows / conv channels from source channel `src` into destination block `dst`.
    const put = (from: Float32Array, srcRow: number, dstRow: number, inRowsBase: number, convSrc: number, convDst: number) => {
      ssmIn.set(rows(from, srcRow, P, D), (inRowsBase + dstRow) * D);
      if (convDst >= 0) {
        cw.set(convW.subarray(convSrc * W, (convSrc + P) * W), convDst * W);
        cb.set(convB.subarray(convSrc, convSrc + P), convDst);
      }
    };
    for (let h = 0; h < H; h++) {
      const kv = Math.floor(h / rep);
      put(z, h * P, h * P, 0, 0, -1); // z
      put(x, kv * P, h * P, di2, kv * P, h * P); // x (repeated), conv channels [0, di2)
      put(b, kv * N, h * N, 2 * di2, dxb + kv * N, di2 + h * N); // B (repeated)
      put(cm, h * N, h * N, 2 * di2 + H2 * N, 2 * dxb + h * N, di2 + H2 * N + h * N); // C
      ssmIn.set(rows(dt, h, 1, D), (2 * di2 + 2 * H2 * N + h) * D);
    }
    const pad = (v: Float32Array, n: number, fill: number) => {
      const out = new Float32Array(n).fill(fill);
      out.set(v);
      return out;
    };
    const aLog = emit.get(`${p}.A_log`);
    const out = emit.get(`${p}.out_proj.weight`); // [D, di]
    const out2 = new Float32Array(D * di2);
    for (let r = 0; r < D; r++) out2.set(out.subarray(r * di, (r + 1) * di), r * di2);
    const blk = `blk.${i}`;
    emit.mat(`${blk}.ssm_in.weight`, ssmIn, inRows, D);
    emit.f32(`${blk}.ssm_conv1d.weight`, cw, [W, convCh]);
    emit.f32(`${blk}.ssm_conv1d.bias`, cb, [convCh]);
    emit.f32(`${blk}.ssm_dt.bias`, pad(emit.get(`${p}.dt_bias`), H2, 0), [H2]);
    emit.f32(`${blk}.ssm_a`, pad(aLog.map((v) => -Math.exp(v)), H2, -1), [1, H2]);
    emit.f32(`${blk}.ssm_d`, pad(emit.get(`${p}.D`), H2, 0), [1, H2]);
    emit.f32(`${blk}.ssm_norm.weight`, pad(emit.get(`${p}.norm.weight`), di2, 1), [di2 / H2, H2]);
    emit.mat(`${blk}.ssm_out.weight`, out2, D, di2);
    return true;
  };
  const arch = 'granitehybrid';
  const base = llamaGgufTensors(teacher, weights, dtype, { contextLength: opts.contextLength, arch, mixer });
  const kvPerLayer = Array.from({ length: c.numHiddenLayers }, (_, i) => (dims.isMamba(i) ? 0 : c.numKeyValueHeads));
  const u32 = (value: number): GgufValue => ({ type: 'uint32', value });
  const metadata: [string, GgufValue][] = [
    ...base.metadata.filter(([k]) => k !== `${arch}.attention.head_count_kv`),
    [`${arch}.attention.head_count_kv`, { type: 'array', itemType: 'int32', value: kvPerLayer }],
    [`${arch}.rope.scaling.finetuned`, { type: 'bool', value: true }],
    [`${arch}.ssm.conv_kernel`, u32(W)],
    [`${arch}.ssm.inner_size`, u32(di2)],
    [`${arch}.ssm.state_size`, u32(N)],
    [`${arch}.ssm.time_step_rank`, u32(H2)],
    [`${arch}.ssm.group_count`, u32(H2)],
  ];
  return { tensors: base.tensors, metadata };
}
