// Gradient rules, one per differentiable op: given a node and the gradients of its outputs, return the gradients
// of its inputs (null where an input gets none).
import type { NodeRecord } from '../graph';
import { Tensor } from '../tensor';
import { GraphError } from '../errors';
import { cast, div, equal, greater, log, mul, neg, pow, sigmoid, sub, where } from '../ops/elementwise';
import { matmul } from '../ops/linalg';
import { cumsum, reduceSum } from '../ops/reduce';
import { concat, pad, reshape, shapeOf, slice, split, transpose, trilu, unsqueeze, zerosLike, END } from '../ops/shape-ops';
import { conv1d, convTranspose1d, scatterElementsAdd, scatterNDAdd } from '../ops/nn';
import { unbroadcast } from './unbroadcast';

export interface RuleContext {
  node: NodeRecord;
  inputs: (Tensor | null)[];
  outputs: Tensor[];
  /** Output gradients; a missing one is null. */
  grads: (Tensor | null)[];
  /** Whether input i needs a gradient. */
  wants: boolean[];
}

export type GradRule = (c: RuleContext) => (Tensor | null)[];

const ints = (v: unknown): number[] => (v as (number | bigint)[]).map(Number);

function constInts(t: Tensor | null): number[] {
  if (!t) return [];
  const v = t.graph.constantValue(t);
  if (!v) throw new GraphError('NO_GRADIENT', `gradient needs the constant value of ${t.name}`);
  return Array.from(v as ArrayLike<number | bigint>, Number);
}

function swapLast(t: Tensor): Tensor {
  const p = t.shape.map((_, i) => i);
  [p[t.rank - 1], p[t.rank - 2]] = [p[t.rank - 2], p[t.rank - 1]];
  return transpose(t, p);
}

/** Reshape back to `like`'s run-time shape. */
const reshapeLike = (g: Tensor, like: Tensor): Tensor =>
  g.graph.addNode('Reshape', [g, shapeOf(like)], [{ dtype: g.dtype, shape: [...like.shape] }])[0];

function matmulGrads(a: Tensor, b: Tensor, g: Tensor, wants: boolean[]): (Tensor | null)[] {
  let ga: Tensor | null = null;
  let gb: Tensor | null = null;
  if (wants[0]) ga = unbroadcast(matmul(g, swapLast(b)), a.shape);
  if (wants[1]) {
    if (b.rank === 2 && a.rank > 2) {
      // Fold batch dims into rows: one [K, rows] × [rows, N] product instead of a batched one then a sum.
      const k = a.shape[a.rank - 1];
      const n = g.shape[g.rank - 1];
      gb = matmul(transpose(reshape(a, [-1, k])), reshape(g, [-1, n]));
    } else gb = unbroadcast(matmul(swapLast(a), g), b.shape);
  }
  return [ga, gb];
}

function count(x: Tensor, axes: number[]): Tensor | number {
  let n = 1;
  for (const a of axes) {
    const d = x.shape[a];
    if (typeof d !== 'number') {
      const dims = x.graph.addNode('Shape', [x], [{ dtype: 'int64', shape: [x.rank] }])[0];
      const picked = x.graph.addNode('Gather', [dims, x.graph.ints(axes)], [{ dtype: 'int64', shape: [axes.length] }], { axis: 0 })[0];
      const prod = x.graph.addNode('ReduceProd', [picked], [{ dtype: 'int64', shape: [] }], { keepdims: 0 })[0];
      return cast(prod, x.dtype);
    }
    n *= d;
  }
  return n;
}

/** Broadcasts a reduced gradient back over the reduced axes. */
function expandBack(g: Tensor, x: Tensor, axes: number[], keepdims: boolean): Tensor {
  const kept = keepdims ? g : unsqueeze(g, axes);
  return kept.graph.addNode('Expand', [kept, shapeOf(x)], [{ dtype: g.dtype, shape: [...x.shape] }])[0];
}

function reduceAxes(c: RuleContext): number[] {
  const x = c.inputs[0]!;
  return c.inputs[1] ? constInts(c.inputs[1]) : x.shape.map((_, i) => i);
}

const one = (t: Tensor) => t.graph.scalar(1, t.dtype);

export const RULES: Record<string, GradRule> = {
  Identity: ({ grads }) => [grads[0]],
  Add: ({ inputs: [a, b], grads: [g] }) => [unbroadcast(g!, a!.shape), unbroadcast(g!, b!.shape)],
  Sub: ({ inputs: [a, b], grads: [g], wants }) => [unbroadcast(g!, a!.shape), wants[1] ? unbroadcast(neg(g!), b!.shape) : null],
  Mul: ({ inputs: [a, b], grads: [g], wants }) => [
    wants[0] ? unbroadcast(mul(g!, b!), a!.shape) : null,
    wants[1] ? unbroadcast(mul(g!, a!), b!.shape) : null,
  ],
  Div: ({ inputs: [a, b], outputs: [y], grads: [g], wants }) => [
    wants[0] ? unbroadcast(div(g!, b!), a!.shape) : null,
    wants[1] ? unbroadcast(neg(div(mul(g!, y), b!)), b!.shape) : null,
  ],
  Pow: ({ inputs: [a, b], outputs: [y], grads: [g], wants }) => [
    wants[0] ? unbroadcast(mul(g!, mul(b!, pow(a!, sub(b!, one(b!))))), a!.shape) : null,
    wants[1] ? unbroadcast(mul(g!, mul(y, log(a!))), b!.shape) : null,
  ],
  Max: ({ inputs: [a, b], grads: [g] }) => {
    const pick = greater(b!, a!); // ties go to a, as torch.maximum's subgradient is split; we pick one side
    return [unbroadcast(where(pick, 0, g!), a!.shape), unbroadcast(where(pick, g!, 0), b!.shape)];
  },
  Min: ({ inputs: [a, b], grads: [g] }) => {
    const pick = greater(a!, b!);
    return [unbroadcast(where(pick, 0, g!), a!.shape), unbroadcast(where(pick, g!, 0), b!.shape)];
  },
  Neg: ({ grads: [g] }) => [neg(g!)],
  Exp: ({ outputs: [y], grads: [g] }) => [mul(g!, y)],
  Log: ({ inputs: [x], grads: [g] }) => [div(g!, x!)],
  Sqrt: ({ outputs: [y], grads: [g] }) => [div(mul(g!, 0.5), y)],
  Reciprocal: ({ outputs: [y], grads: [g] }) => [neg(mul(g!, mul(y, y)))],
  Sigmoid: ({ outputs: [y], grads: [g] }) => [mul(g!, mul(y, sub(1, y)))],
  Tanh: ({ outputs: [y], grads: [g] }) => [mul(g!, sub(1, mul(y, y)))],
  Softplus: ({ inputs: [x], grads: [g] }) => [mul(g!, sigmoid(x!))],
  Relu: ({ inputs: [x], grads: [g] }) => [where(greater(x!, 0), g!, 0)],
  Abs: ({ inputs: [x], grads: [g] }) => [where(greater(x!, 0), g!, neg(g!))],
  Where: ({ inputs: [c, a, b], grads: [g], wants }) => [
    null,
    wants[1] ? unbroadcast(where(c!, g!, 0), a!.shape) : null,
    wants[2] ? unbroadcast(where(c!, 0, g!), b!.shape) : null,
  ],
  Cast: ({ inputs: [x], grads: [g] }) => [cast(g!, x!.dtype)],
  MatMul: ({ inputs: [a, b], grads: [g], wants }) => matmulGrads(a!, b!, g!, wants),
  Gemm: ({ node, inputs: [a, b, c], grads: [g], wants }) => {
    const alpha = Number((node.raw.alpha as { value: number } | undefined)?.value ?? 1);
    const beta = Number((node.raw.beta as { value: number } | undefined)?.value ?? 1);
    const tA = Number(node.raw.transA ?? 0) === 1;
    const tB = Number(node.raw.transB ?? 0) === 1;
    const ga0 = alpha === 1 ? g! : mul(g!, alpha);
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    const opB = tB ? transpose(b!) : b!;
    const opA = tA ? transpose(a!) : a!;
    if (wants[0]) ga = tA ? matmul(opB, transpose(ga0)) : matmul(ga0, transpose(opB));
    if (wants[1]) gb = tB ? matmul(transpose(ga0), opA) : matmul(transpose(opA), ga0);
    const gc = c && wants[2] ? unbroadcast(beta === 1 ? g! : mul(g!, beta), c.shape) : null;
    return [ga, gb, gc];
  },
  ReduceSum: (c) => {
    const axes = reduceAxes(c);
    return [expandBack(c.grads[0]!, c.inputs[0]!, axes, Number(c.node.raw.keepdims ?? 1) === 1), null];
  },
  ReduceMean: (c) => {
    const x = c.inputs[0]!;
    const axes = reduceAxes(c);
    const n = count(x, axes);
    return [div(expandBack(c.grads[0]!, x, axes, Number(c.node.raw.keepdims ?? 1) === 1), n), null];
  },
  ReduceMax: (c) => {
    const x = c.inputs[0]!;
    const axes = reduceAxes(c);
    const keep = Number(c.node.raw.keepdims ?? 1) === 1;
    const yb = expandBack(c.outputs[0], x, axes, keep);
    const mask = cast(equal(x, yb), x.dtype);
    const share = div(mask, reduceSum(mask, axes, true));
    return [mul(share, expandBack(c.grads[0]!, x, axes, keep)), null];
  },
  Softmax: ({ node, outputs: [y], grads: [g] }) => {
    const axis = Number(node.raw.axis);
    return [mul(y, sub(g!, reduceSum(mul(g!, y), [axis], true)))];
  },
  LogSoftmax: ({ node, outputs: [y], grads: [g] }) => {
    const axis = Number(node.raw.axis);
    const e = y.graph.addNode('Exp', [y], [{ dtype: y.dtype, shape: [...y.shape] }])[0];
    return [sub(g!, mul(e, reduceSum(g!, [axis], true)))];
  },
  CumSum: ({ node, inputs: [x, axisT], grads: [g] }) => {
    const axis = constInts(axisT)[0];
    return [cumsum(g!, axis < 0 ? axis + x!.rank : axis, { exclusive: Number(node.raw.exclusive ?? 0) === 1, reverse: Number(node.raw.reverse ?? 0) !== 1 }), null];
  },
  Reshape: ({ inputs: [x], grads: [g] }) => [reshapeLike(g!, x!), null],
  Unsqueeze: ({ inputs: [x], grads: [g] }) => [reshapeLike(g!, x!), null],
  Squeeze: ({ inputs: [x], grads: [g] }) => [reshapeLike(g!, x!), null],
  Transpose: ({ node, grads: [g] }) => {
    const perm = ints(node.raw.perm);
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [transpose(g!, inv)];
  },
  Expand: ({ inputs: [x], grads: [g] }) => [unbroadcast(g!, x!.shape), null],
  Concat: ({ node, inputs, grads: [g] }) => {
    const axis = Number(node.raw.axis);
    const sizes = inputs.map((t) => t!.shape[axis]);
    if (sizes.every((d) => typeof d === 'number')) return split(g!, sizes as number[], axis);
    // Run-time sizes: read each input's extent along the axis.
    const gg = g!.graph;
    const sizeT = concat(inputs.map((t) => gg.addNode('Shape', [t!], [{ dtype: 'int64', shape: [1] }], { start: axis, end: axis + 1 })[0]), 0);
    return gg.addNode('Split', [g!, sizeT], inputs.map((t) => ({ dtype: g!.dtype, shape: [...t!.shape] })), { axis });
  },
  Split: ({ node, inputs: [x], outputs, grads }) => {
    const axis = Number(node.raw.axis);
    const parts = grads.map((gr, i) => gr ?? zerosLike(outputs[i]));
    const out = concat(parts, axis);
    return [out.shape.length === x!.rank ? out : reshapeLike(out, x!), null];
  },
  Slice: ({ inputs: [x, st, en, ax, sp], grads: [g] }) => {
    const starts = constInts(st);
    const ends = constInts(en);
    const axes = ax ? constInts(ax) : starts.map((_, i) => i);
    const steps = sp ? constInts(sp) : starts.map(() => 1);
    if (steps.some((s) => s !== 1)) throw new GraphError('NO_GRADIENT', `Slice gradient supports step 1 only (${x!.name})`);
    const pads = new Array(2 * x!.rank).fill(0);
    axes.forEach((a0, i) => {
      const a = a0 < 0 ? a0 + x!.rank : a0;
      const d = x!.shape[a];
      const big = ends[i] >= Number.MAX_SAFE_INTEGER;
      if (typeof d !== 'number') {
        if (starts[i] < 0 || !big) throw new GraphError('NO_GRADIENT', `Slice gradient on symbolic axis ${a} of ${x!.name} needs start ≥ 0 and end = END`);
        pads[a] = starts[i];
        return;
      }
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
      const s = clamp(starts[i]);
      const e = big ? d : clamp(ends[i]);
      pads[a] = s;
      pads[a + x!.rank] = d - Math.max(e, s);
    });
    return [pad(g!, pads), null, null, null, null];
  },
  Pad: ({ inputs: [x, p], grads: [g] }) => {
    const pads = constInts(p);
    const r = x!.rank;
    if (pads.some((v) => v < 0)) throw new GraphError('NO_GRADIENT', `Pad gradient needs non-negative pads (${x!.name})`);
    const starts = pads.slice(0, r);
    const ends = x!.shape.map((d, i) => (pads[i + r] === 0 ? END : -pads[i + r]));
    return [slice(g!, starts, ends), null, null];
  },
  Trilu: ({ node, inputs: [, k], grads: [g] }) => [trilu(g!, Number(node.raw.upper ?? 1) === 1, k ? constInts(k)[0] : 0), null],
  Gather: ({ node, inputs: [data, idx], grads: [g] }) => {
    if (Number(node.raw.axis ?? 0) !== 0) throw new GraphError('NO_GRADIENT', `Gather gradient supports axis 0 only (${data!.name})`);
    const ix = cast(unsqueeze(idx!, [-1]), 'int64');
    return [scatterNDAdd(zerosLike(data!), ix, g!), null];
  },
  GatherElements: ({ node, inputs: [data, idx], grads: [g] }) => [scatterElementsAdd(zerosLike(data!), idx!, g!, Number(node.raw.axis ?? 0)), null],
  Conv: ({ node, inputs: [x, w, b], grads: [g], wants }) => {
    const group = Number(node.raw.group ?? 1);
    const pads = ints(node.raw.pads ?? [0, 0]) as [number, number];
    const res: (Tensor | null)[] = [null, null, null];
    if (wants[0]) res[0] = convTranspose1d(g!, w!, { group, pads, outLength: x!.shape[2] });
    if (wants[1]) {
      const xp = pads[0] || pads[1] ? pad(x!, [0, 0, pads[0], 0, 0, pads[1]]) : x!;
      const cin = x!.shape[1] as number;
      const cout = w!.shape[0] as number;
      const k = w!.shape[2] as number;
      const depthwise = w!.shape[1] === 1 && group === cin && cout === cin;
      if (group !== 1 && !depthwise) throw new GraphError('NO_GRADIENT', `Conv weight gradient supports group 1 or depthwise only (${w!.name}, group ${group})`);
      if (typeof g!.shape[2] === 'number') {
        // Static length: the weight gradient is itself a convolution of the input by the output gradient.
        if (group === 1) res[1] = transpose(conv1d(transpose(xp, [1, 0, 2]), transpose(g!, [1, 0, 2])), [1, 0, 2]);
        else res[1] = reshape(conv1d(reshape(transpose(xp, [1, 0, 2]), [1, -1, 0]), transpose(g!, [1, 0, 2]), null, { group }), [cout, 1, k]);
      } else {
        // Symbolic length (a kernel cannot have a run-time size): one reduction per tap j over x shifted by j.
        const taps: Tensor[] = [];
        for (let j = 0; j < k; j++) {
          const xs = slice(xp, [j], [j === k - 1 ? END : j - (k - 1)], [2]);
          if (depthwise) taps.push(reshape(reduceSum(mul(g!, xs), [0, 2]), [cout, 1, 1]));
          else {
            const go = reshape(transpose(g!, [1, 0, 2]), [cout, -1]);
            const xi = reshape(transpose(xs, [0, 2, 1]), [-1, cin]);
            taps.push(unsqueeze(matmul(go, xi), [2]));
          }
        }
        res[1] = concat(taps, 2);
      }
    }
    if (b && wants[2]) res[2] = reduceSum(g!, [0, 2]);
    return res;
  },
};

/** Ops whose outputs carry no gradient (comparisons, shapes, integer plumbing). */
export const NON_DIFFERENTIABLE = new Set(['Equal', 'Less', 'Greater', 'Shape', 'ConstantOfShape', 'Not', 'And', 'Or', 'ArgMax', 'Range']);

