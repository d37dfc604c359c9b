// Building blocks shared by the teacher and the hybrid students, in standard ONNX ops (differentiable).
import { type Tensor, add, concat, matmul, mul, reduceMean, reciprocal, slice, sqrt, transpose, END, silu } from '@mil/graph';

/** HF Linear: y = x Wᵀ (+ b), W stored [out, in]. */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  const y = matmul(x, transpose(w));
  return b ? add(y, b) : y;
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · w (HF LlamaRMSNorm). */
export function rmsNorm(x: Tensor, w: Tensor, eps: number): Tensor {
  const ms = reduceMean(mul(x, x), [-1], true);
  return mul(mul(x, reciprocal(sqrt(add(ms, eps)))), w);
}

/** Rotate-half RoPE on [..., headDim] given cos/sin broadcastable to [..., headDim/2]. */
export function applyRope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const hd = x.shape[x.rank - 1] as number;
  const half = hd / 2;
  const ax = x.rank - 1;
  const x1 = slice(x, [0], [half], [ax]);
  const x2 = slice(x, [half], [END], [ax]);
  return concat([add(mul(x1, cos), mul(mul(x2, sin), -1)), add(mul(x2, cos), mul(x1, sin))], -1);
}

/** SwiGLU MLP: down(silu(gate(x)) · up(x)). */
export function swiglu(x: Tensor, gate: Tensor, up: Tensor, down: Tensor): Tensor {
  return linear(mul(silu(linear(x, gate)), linear(x, up)), down);
}

