import { Tensor } from '../tensor';
import { GraphError } from '../errors';
import type { NodeRecord } from '../graph';
import { add } from '../ops/elementwise';
import { constantOfShape, shapeOf, zerosLike } from '../ops/shape-ops';
import { NON_DIFFERENTIABLE, RULES } from './rules';

/**
 * Reverse-mode autodiff: appends the backward graph of `loss` and returns d loss / d x for each of `wrt`.
 * `seed` is the incoming gradient of `loss` (default: ones, i.e. the gradient of sum(loss)).
 *
 * @example
 * const grads = gradients(loss, g.params);     // Map<Tensor, Tensor>
 * g.toModel({ outputs: { loss, ...Object.fromEntries([...grads].map(([p, d]) => [`grad.${p.name}`, d])) } });
 */
export function gradients(loss: Tensor, wrt: Tensor[], seed?: Tensor): Map<Tensor, Tensor> {
  const g = loss.graph;
  // Values that depend on some wrt tensor (forward reachability).
  const depends = new Set<string>(wrt.map((t) => t.name));
  const nodes = g.nodes;
  for (const n of nodes) if (n.inputs.some((i) => i && depends.has(i))) for (const o of n.outputs) depends.add(o);
  if (!depends.has(loss.name)) {
    // No path: every gradient is zero.
    return new Map(wrt.map((t) => [t, zerosLike(t)]));
  }
  const grads = new Map<string, Tensor>();
  const initial =
    seed ??
    (loss.rank === 0 ? g.scalar(1, loss.dtype) : constantOfShape(shapeOf(loss), loss.shape, loss.dtype, 1));
  grads.set(loss.name, initial);
  const end = nodes.findIndex((n) => n.outputs.includes(loss.name));
  for (let i = end; i >= 0; i--) {
    const node: NodeRecord = nodes[i];
    const outGrads = node.outputs.map((o) => grads.get(o) ?? null);
    if (outGrads.every((x) => x === null)) continue;
    const wants = node.inputs.map((n) => n !== '' && depends.has(n));
    if (!wants.some(Boolean)) continue;
    if (NON_DIFFERENTIABLE.has(node.opType)) continue;
    const rule = RULES[node.opType];
    if (!rule)
      throw new GraphError(
        'NO_GRADIENT',
        `no gradient rule for ${node.domain ? node.domain + '.' : ''}${node.opType} (node ${node.name}); training graphs must use standard ops`,
      );
    const inputs = node.inputs.map((n) => (n ? g.tensor(n) : null));
    const outputs = node.outputs.map((n) => g.tensor(n));
    const inGrads = rule({ node, inputs, outputs, grads: outGrads, wants });
    inGrads.forEach((gr, k) => {
      const name = node.inputs[k];
      if (!gr || !name || !wants[k]) return;
      const prev = grads.get(name);
      grads.set(name, prev ? add(prev, gr) : gr);
    });
  }
  return new Map(wrt.map((t) => [t, grads.get(t.name) ?? zerosLike(t)]));
}
