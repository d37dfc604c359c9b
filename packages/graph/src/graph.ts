import type { AttributeValue, DType, Dim, GraphSpec, ModelSpec, NodeSpec, TensorSpec, ValueInfoSpec } from './onnx/model-spec';
import { Tensor } from './tensor';
import { GraphError } from './errors';
import { type AnyTypedArray, BYTES_PER_ELEMENT, typedArrayFrom } from './dtypes';
import { formatShape, staticSize } from './shape';

/** ONNX default-domain opset the builder targets (Reduce* take axes as inputs, Split takes num_outputs). */
export const OPSET = 21;
/** ONNX IR version written into models. */
export const IR_VERSION = 10;

export type AttrInput = number | bigint | string | number[] | bigint[] | string[] | AttributeValue;

export interface NodeRecord extends NodeSpec {
  /** Attribute values as given to the builder (for gradient rules). */
  raw: Record<string, unknown>;
}

export interface ToModelOptions {
  /** Graph outputs by name (an Identity is added when the tensor's own name differs). */
  outputs: Record<string, Tensor> | Tensor[];
  /** 'inputs': parameters become graph inputs (training); 'initializers': their data is embedded (inference). */
  weights?: 'inputs' | 'initializers';
  /** Parameter data for weights: 'initializers', looked up by parameter name. */
  weightData?: (name: string) => AnyTypedArray | undefined;
  /** Write initializers of at least this many bytes to external data (see `saveModel`). */
  name?: string;
}

export interface BuiltModel {
  spec: ModelSpec;
  /** Names of the graph inputs that must be fed, in order (data inputs, then parameters when weights are inputs). */
  inputNames: string[];
  outputNames: string[];
  /** Parameters the model needs, by name (fed as inputs or embedded). */
  paramNames: string[];
}

function toAttr(v: AttrInput): AttributeValue {
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'type' in v) return v;
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'int', value: v } : { type: 'float', value: v };
  if (typeof v === 'bigint') return { type: 'int', value: v };
  if (typeof v === 'string') return { type: 'string', value: v };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string') return { type: 'strings', value: v as string[] };
    return { type: 'ints', value: v as number[] };
  }
  throw new GraphError('BAD_OPTION', `unsupported attribute value ${String(v)}`);
}

/** Float attribute (an integer-valued number would otherwise be written as an int). */
export const floatAttr = (value: number): AttributeValue => ({ type: 'float', value });

/**
 * A typed ONNX graph under construction. Tensors carry dtype and shape; every op checks them when it is added.
 *
 * @example
 * const g = new Graph();
 * const x = g.input('x', 'float32', ['batch', 4]);
 * const w = g.param('w', 'float32', [4, 2]);
 * const y = matmul(x, w);
 * const model = g.toModel({ outputs: { y } });
 */
export class Graph {
  readonly nodes: NodeRecord[] = [];
  readonly inputs: Tensor[] = [];
  readonly params: Tensor[] = [];
  private readonly constData = new Map<string, AnyTypedArray>();
  private readonly constCache = new Map<string, Tensor>();
  private readonly producer = new Map<string, NodeRecord>();
  private readonly values = new Map<string, Tensor>();
  private readonly dimSources = new Map<string, { tensor: Tensor; axis: number }>();
  private readonly dimTensors = new Map<string, Tensor>();
  private counter = 0;
  /** Opset imports beyond the default domain, added when contrib ops are used. */
  readonly domains = new Set<string>();

  constructor(readonly name = 'mil_graph') {}

  /** Returns a fresh value name starting with `prefix`. */
  uniqueName(prefix: string): string {
    let n: string;
    do n = `${prefix}_${this.counter++}`;
    while (this.values.has(n));
    return n;
  }

  private register(t: Tensor): Tensor {
    if (this.values.has(t.name)) throw new GraphError('BAD_OPTION', `graph ${this.name}: value name "${t.name}" is already used`);
    this.values.set(t.name, t);
    return t;
  }

  /** Declares a graph input (fed at run time). String dims are symbolic and can be referred to by reshape/expand. */
  input(name: string, dtype: DType, shape: Dim[]): Tensor {
    const t = this.register(new Tensor(this, name, dtype, shape));
    this.inputs.push(t);
    shape.forEach((d, axis) => {
      if (typeof d === 'string' && !this.dimSources.has(d)) this.dimSources.set(d, { tensor: t, axis });
    });
    return t;
  }

  /** Declares a trainable parameter (graph input in training models, initializer in inference models). */
  param(name: string, dtype: DType, shape: Dim[]): Tensor {
    for (const d of shape)
      if (typeof d !== 'number') throw new GraphError('BAD_OPTION', `param ${name}: shape ${formatShape(shape)} must be static`);
    const t = this.register(new Tensor(this, name, dtype, shape));
    this.params.push(t);
    return t;
  }

  /** A constant tensor embedded as an initializer. Scalars and small constants are shared. */
  constant(values: ArrayLike<number> | ArrayLike<bigint> | AnyTypedArray, dtype: DType, shape: number[]): Tensor {
    const n = staticSize(shape)!;
    if (values.length !== n)
      throw new GraphError('SHAPE_MISMATCH', `constant: ${values.length} values given for shape ${formatShape(shape)}`);
    const data = ArrayBuffer.isView(values) && !(values instanceof DataView) && dtypeMatches(values, dtype)
      ? (values as AnyTypedArray)
      : typedArrayFrom(dtype, values as ArrayLike<number>);
    let key: string | undefined;
    if (n <= 16) {
      key = `${dtype}|${shape.join(',')}|${Array.from(data as ArrayLike<number | bigint>, String).join(',')}`;
      const hit = this.constCache.get(key);
      if (hit) return hit;
    }
    const t = this.register(new Tensor(this, this.uniqueName('const'), dtype, shape));
    this.constData.set(t.name, data);
    if (key) this.constCache.set(key, t);
    return t;
  }

  /** A scalar constant (shape []). */
  scalar(value: number, dtype: DType): Tensor {
    return this.constant([value], dtype, []);
  }

  /** 1-D int64 constant, as ONNX shape-like inputs want. */
  ints(values: (number | bigint)[]): Tensor {
    return this.constant(values.map((v) => BigInt(v)), 'int64', [values.length]);
  }

  /** Data of a constant, when `t` is one. */
  constantValue(t: Tensor): AnyTypedArray | undefined {
    return this.constData.get(t.name);
  }

  /** The node that produced a value (undefined for inputs, params, constants). */
  producerOf(t: Tensor): NodeRecord | undefined {
    return this.producer.get(t.name);
  }

  tensor(name: string): Tensor {
    const t = this.values.get(name);
    if (!t) throw new GraphError('UNKNOWN_TENSOR', `graph ${this.name}: no value named "${name}"`);
    return t;
  }

  isParam(t: Tensor): boolean {
    return this.params.includes(t);
  }

  /**
   * Adds a node. `outputs` gives each output's dtype and shape (computed by the op's shape inference).
   * Pass null for an omitted optional input.
   */
  addNode(
    opType: string,
    inputs: (Tensor | null)[],
    outputs: { dtype: DType; shape: Dim[] }[],
    attrs: Record<string, AttrInput | undefined> = {},
    domain = '',
  ): Tensor[] {
    for (const t of inputs)
      if (t && t.graph !== this) throw new GraphError('BAD_OPTION', `${opType}: input ${t.name} belongs to another graph`);
    const base = this.uniqueName(opType);
    const outs = outputs.map((o, i) => this.register(new Tensor(this, outputs.length === 1 ? `${base}_out` : `${base}_out${i}`, o.dtype, o.shape)));
    const attributes: Record<string, AttributeValue> = {};
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined) continue;
      attributes[k] = toAttr(v);
      raw[k] = v;
    }
    const node: NodeRecord = {
      opType,
      domain,
      name: base,
      inputs: inputs.map((t) => (t ? t.name : '')),
      outputs: outs.map((t) => t.name),
      attributes,
      raw,
    };
    if (domain) this.domains.add(domain);
    this.nodes.push(node);
    for (const o of outs) this.producer.set(o.name, node);
    return outs;
  }

  /** Int64 [1] tensor holding the run-time size of symbolic dim `sym` (or a product like "batch*seq"). */
  dimTensor(sym: string): Tensor {
    const hit = this.dimTensors.get(sym);
    if (hit) return hit;
    let t: Tensor;
    const parts = sym.split('*');
    if (parts.length > 1) {
      t = parts.map((p) => (/^\d+$/.test(p) ? this.ints([Number(p)]) : this.dimTensor(p))).reduce((a, b) =>
        this.addNode('Mul', [a, b], [{ dtype: 'int64', shape: [1] }])[0],
      );
    } else {
      const src = this.dimSources.get(sym);
      if (!src) throw new GraphError('UNKNOWN_TENSOR', `symbolic dim "${sym}" does not appear in any graph input`);
      const shp = this.addNode('Shape', [src.tensor], [{ dtype: 'int64', shape: [1] }], {
        start: src.axis,
        end: src.axis + 1,
      })[0];
      t = shp;
    }
    this.dimTensors.set(sym, t);
    return t;
  }

  /** Int64 1-D tensor for a shape that may contain symbolic dims (resolved at run time). */
  shapeTensor(dims: readonly Dim[]): Tensor {
    if (dims.every((d) => typeof d === 'number')) return this.ints(dims as number[]);
    const parts: Tensor[] = [];
    let run: number[] = [];
    for (const d of dims) {
      if (typeof d === 'number') run.push(d);
      else {
        if (run.length) parts.push(this.ints(run));
        run = [];
        parts.push(this.dimTensor(d));
      }
    }
    if (run.length) parts.push(this.ints(run));
    if (parts.length === 1) return parts[0];
    return this.addNode('Concat', parts, [{ dtype: 'int64', shape: [dims.length] }], { axis: 0 })[0];
  }

  /**
   * Builds an ONNX model with the given outputs. Only the nodes, inputs and parameters the outputs need are kept.
   */
  toModel(opts: ToModelOptions): BuiltModel {
    const outEntries: [string, Tensor][] = Array.isArray(opts.outputs)
      ? opts.outputs.map((t) => [t.name, t])
      : Object.entries(opts.outputs);
    const weightsAs = opts.weights ?? 'inputs';
    // Walk back from the outputs to find the needed nodes.
    const needed = new Set<NodeRecord>();
    const neededValues = new Set<string>();
    const stack = outEntries.map(([, t]) => t.name);
    while (stack.length) {
      const v = stack.pop()!;
      if (neededValues.has(v)) continue;
      neededValues.add(v);
      const p = this.producer.get(v);
      if (p && !needed.has(p)) {
        needed.add(p);
        for (const i of p.inputs) if (i) stack.push(i);
      }
    }
    const nodes: NodeSpec[] = this.nodes.filter((n) => needed.has(n)).map(({ raw: _raw, ...spec }) => spec);
    const outputs: ValueInfoSpec[] = [];
    for (const [name, t] of outEntries) {
      if (name !== t.name) {
        if (this.values.has(name) && this.values.get(name) !== t)
          throw new GraphError('BAD_OPTION', `toModel: output name "${name}" clashes with another value`);
        nodes.push({ opType: 'Identity', domain: '', name: `out_${name}`, inputs: [t.name], outputs: [name], attributes: {} });
      }
      outputs.push({ name, dtype: t.dtype, shape: [...t.shape] });
    }
    const inputs: ValueInfoSpec[] = [];
    const initializers: TensorSpec[] = [];
    const inputNames: string[] = [];
    const paramNames: string[] = [];
    for (const t of this.inputs) {
      if (!neededValues.has(t.name)) continue;
      inputs.push({ name: t.name, dtype: t.dtype, shape: [...t.shape] });
      inputNames.push(t.name);
    }
    for (const t of this.params) {
      if (!neededValues.has(t.name)) continue;
      paramNames.push(t.name);
      if (weightsAs === 'inputs') {
        inputs.push({ name: t.name, dtype: t.dtype, shape: [...t.shape] });
        inputNames.push(t.name);
      } else {
        const data = opts.weightData?.(t.name);
        if (!data) throw new GraphError('BAD_OPTION', `toModel: no weight data for parameter ${t.name}`);
        initializers.push(tensorSpec(t.name, t.dtype, t.shape as number[], data));
      }
    }
    for (const [name, data] of this.constData) {
      if (!neededValues.has(name)) continue;
      const t = this.values.get(name)!;
      initializers.push(tensorSpec(name, t.dtype, t.shape as number[], data));
    }
    const graph: GraphSpec = { name: opts.name ?? this.name, nodes, inputs, outputs, initializers };
    const opsetImports = [{ domain: '', version: OPSET }];
    for (const d of this.domains) opsetImports.push({ domain: d, version: 1 });
    return {
      spec: { irVersion: IR_VERSION, opsetImports, producerName: '@mil/graph', graph },
      inputNames,
      outputNames: outEntries.map(([n]) => n),
      paramNames,
    };
  }
}

function dtypeMatches(a: ArrayBufferView, dtype: DType): boolean {
  switch (dtype) {
    case 'float32':
      return a instanceof Float32Array;
    case 'float64':
      return a instanceof Float64Array;
    case 'int64':
      return a instanceof BigInt64Array;
    case 'int32':
      return a instanceof Int32Array;
    case 'float16':
    case 'bfloat16':
      return a instanceof Uint16Array;
    case 'bool':
    case 'uint8':
      return a instanceof Uint8Array;
    default:
      return false;
  }
}

/** An initializer from typed-array data (checked against the declared shape and dtype). */
export function tensorSpec(name: string, dtype: DType, dims: number[], data: AnyTypedArray): TensorSpec {
  const n = staticSize(dims)!;
  if (data.length !== n)
    throw new GraphError('SHAPE_MISMATCH', `tensor ${name}: ${data.length} values for shape ${formatShape(dims)} (${n} expected)`);
  if (!dtypeMatches(data, dtype))
    throw new GraphError('DTYPE_MISMATCH', `tensor ${name}: ${data.constructor.name} does not hold ${dtype}`);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, n * BYTES_PER_ELEMENT[dtype]);
  return { name, dtype, dims, rawData: bytes };
}
