// Symbolic dimension names of exported graphs, renamed to the names transformers.js resolves.
import type { Dim, ModelSpec, ValueInfoSpec } from '@mil/graph';

/**
 * Our builder's dim names → the names Hugging Face exporters (Optimum) use. transformers.js builds an empty cache
 * from a session's input metadata and resolves symbolic dims by name: `batch_size` becomes the batch, every other
 * name becomes 0 (the empty past), so `batch` must be renamed or the first step fails.
 */
export const TRANSFORMERS_JS_DIM_NAMES: Readonly<Record<string, string>> = {
  batch: 'batch_size',
  seq: 'sequence_length',
  past: 'past_sequence_length',
  total: 'total_sequence_length',
};

function renameDim(d: Dim, names: Readonly<Record<string, string>>): Dim {
  if (typeof d === 'number') return d;
  // Products such as `batch*seq` keep their form with each factor renamed.
  return d
    .split('*')
    .map((p) => names[p] ?? p)
    .join('*');
}

/**
 * A copy of `spec` whose graph inputs, outputs and value infos use `names` for their symbolic dims (the nodes do
 * not mention dim names: sizes are read at run time with Shape).
 *
 * @example
 * const spec = renameSymbolicDims(built.spec); // ['batch', 'seq'] → ['batch_size', 'sequence_length']
 */
export function renameSymbolicDims(spec: ModelSpec, names: Readonly<Record<string, string>> = TRANSFORMERS_JS_DIM_NAMES): ModelSpec {
  const vi = (v: ValueInfoSpec): ValueInfoSpec => ({ ...v, shape: v.shape.map((d) => renameDim(d, names)) });
  const g = spec.graph;
  return {
    ...spec,
    graph: { ...g, inputs: g.inputs.map(vi), outputs: g.outputs.map(vi), ...(g.valueInfo ? { valueInfo: g.valueInfo.map(vi) } : {}) },
  };
}
