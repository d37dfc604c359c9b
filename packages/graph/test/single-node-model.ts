// A model made of one node whose inputs and outputs are all graph inputs/outputs: the smallest thing
// that lets an op be run in onnxruntime (used to check oracles against the runtime).

import type { AttributeValue, DType, Dim, ModelSpec } from '../src/onnx/model-spec';

export interface SingleNodeModelOptions {
  opType: string;
  /** '' for the ONNX domain, 'com.microsoft' for contrib ops. */
  domain?: string;
  /** Inputs in the op's order; `null` leaves an optional input out (written as ''). */
  inputs: ({ name: string; dtype: DType; shape: Dim[] } | null)[];
  /** Outputs in the op's order; `null` skips an optional output. Shapes may be symbolic. */
  outputs: ({ name: string; dtype: DType; shape: Dim[] } | null)[];
  attributes?: Record<string, AttributeValue>;
  /** Default-domain opset (default 21). */
  opset?: number;
}

/**
 * Builds a ModelSpec with a single node wired straight to graph inputs and outputs.
 *
 * @example
 * const spec = singleNodeModel({ opType: 'Relu', inputs: [{ name: 'x', dtype: 'float32', shape: [2] }],
 *   outputs: [{ name: 'y', dtype: 'float32', shape: [2] }] });
 * const session = await InferenceSession.create(encodeModel(spec));
 */
export function singleNodeModel(o: SingleNodeModelOptions): ModelSpec {
  const domain = o.domain ?? '';
  const opsetImports = [{ domain: '', version: o.opset ?? 21 }];
  if (domain !== '') opsetImports.push({ domain, version: 1 });
  // Trailing omitted outputs are dropped; inner ones stay as '' placeholders.
  const outputs = [...o.outputs];
  while (outputs.length > 0 && outputs[outputs.length - 1] === null) outputs.pop();
  return {
    irVersion: 10,
    opsetImports,
    producerName: 'mil-single-node',
    graph: {
      name: `${o.opType}_graph`,
      nodes: [
        {
          opType: o.opType,
          domain,
          name: `${o.opType}_0`,
          inputs: o.inputs.map((i) => (i ? i.name : '')),
          outputs: outputs.map((i) => (i ? i.name : '')),
          attributes: o.attributes ?? {},
        },
      ],
      inputs: o.inputs.filter((i): i is NonNullable<typeof i> => i !== null),
      outputs: outputs.filter((i): i is NonNullable<typeof i> => i !== null),
      initializers: [],
    },
  };
}
