// ModelSpec → ONNX ModelProto bytes, hand-written against the field numbers of onnx/onnx.proto.

import { GraphError } from '../errors';
import { BYTES_PER_ELEMENT } from '../dtypes';
import { ProtoWriter } from './proto-wire';
import {
  ONNX_DTYPE,
  type AttributeValue,
  type GraphSpec,
  type ModelSpec,
  type NodeSpec,
  type TensorSpec,
  type ValueInfoSpec,
} from './model-spec';

// Field numbers (onnx.proto).
const MODEL = { irVersion: 1, producerName: 2, producerVersion: 3, graph: 7, opsetImport: 8 } as const;
const OPSET = { domain: 1, version: 2 } as const;
const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12, valueInfo: 13 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
const ATTR = { name: 1, f: 2, i: 3, s: 4, t: 5, g: 6, floats: 7, ints: 8, strings: 9, type: 20 } as const;
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, graph: 5, floats: 6, ints: 7, strings: 8 } as const;
const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9, externalData: 13, dataLocation: 14 } as const;
const ENTRY = { key: 1, value: 2 } as const;
const DATA_LOCATION_EXTERNAL = 1;
const VALUE_INFO = { name: 1, type: 2 } as const;
const TYPE = { tensorType: 1 } as const;
const TYPE_TENSOR = { elemType: 1, shape: 2 } as const;
const SHAPE = { dim: 1 } as const;
const DIM = { value: 1, param: 2 } as const;

/** Protobuf messages above 2 GiB cannot be parsed by onnxruntime; such models need external data. */
const MAX_PROTO_BYTES = 2 ** 31 - 1;

function fail(message: string): never {
  throw new GraphError('SERIALIZE_FAILED', message);
}

function elementCount(t: TensorSpec): number {
  let n = 1;
  for (const d of t.dims) {
    if (!Number.isInteger(d) || d < 0) fail(`proto-encode: tensor '${t.name}' has invalid dim ${d}; expected a non-negative integer`);
    n *= d;
  }
  return n;
}

function tensorProto(t: TensorSpec): ProtoWriter {
  const w = new ProtoWriter();
  const code = ONNX_DTYPE[t.dtype];
  if (code === undefined) fail(`proto-encode: tensor '${t.name}' has unknown dtype '${t.dtype}'`);
  if (t.dtype === 'string') fail(`proto-encode: tensor '${t.name}': string tensors are not supported (no raw_data form)`);
  const expectedBytes = elementCount(t) * BYTES_PER_ELEMENT[t.dtype];
  w.packedInt64(TENSOR.dims, t.dims);
  w.int64(TENSOR.dataType, code);
  w.string(TENSOR.name, t.name);
  if (t.external) {
    if (t.rawData) fail(`proto-encode: tensor '${t.name}' has both rawData and external data; give one`);
    const { location, offset, length } = t.external;
    if (length !== expectedBytes) {
      fail(`proto-encode: tensor '${t.name}' external length ${length} != ${expectedBytes} bytes expected for ${t.dtype}[${t.dims.join(', ')}]`);
    }
    const entries: [string, string][] = [
      ['location', location],
      ['offset', String(offset)],
      ['length', String(length)],
    ];
    for (const [key, value] of entries) {
      const e = new ProtoWriter();
      e.string(ENTRY.key, key);
      e.string(ENTRY.value, value);
      w.message(TENSOR.externalData, e);
    }
    w.int64(TENSOR.dataLocation, DATA_LOCATION_EXTERNAL);
  } else {
    const raw = t.rawData ?? new Uint8Array(0);
    if (raw.length !== expectedBytes) {
      fail(`proto-encode: tensor '${t.name}' rawData has ${raw.length} bytes, expected ${expectedBytes} for ${t.dtype}[${t.dims.join(', ')}]`);
    }
    // Always written (even when empty) so the tensor is not mistaken for one with typed *_data fields.
    w.bytes(TENSOR.rawData, raw);
  }
  return w;
}

function valueInfoProto(v: ValueInfoSpec): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') {
      if (!Number.isInteger(d) || d < 0) fail(`proto-encode: value '${v.name}' has invalid dim ${d}; expected a non-negative integer or a name`);
      dim.int64(DIM.value, d);
    } else {
      dim.string(DIM.param, d);
    }
    shape.message(SHAPE.dim, dim);
  }
  const tensorType = new ProtoWriter();
  tensorType.int64(TYPE_TENSOR.elemType, ONNX_DTYPE[v.dtype]);
  tensorType.message(TYPE_TENSOR.shape, shape);
  const type = new ProtoWriter();
  type.message(TYPE.tensorType, tensorType);
  const w = new ProtoWriter();
  w.string(VALUE_INFO.name, v.name);
  w.message(VALUE_INFO.type, type);
  return w;
}

function attributeProto(name: string, a: AttributeValue): ProtoWriter {
  const w = new ProtoWriter();
  w.string(ATTR.name, name);
  switch (a.type) {
    case 'float':
      w.float(ATTR.f, a.value);
      break;
    case 'int':
      w.int64(ATTR.i, a.value);
      break;
    case 'string':
      w.string(ATTR.s, a.value);
      break;
    case 'tensor':
      w.message(ATTR.t, tensorProto(a.value));
      break;
    case 'graph':
      w.message(ATTR.g, graphProto(a.value));
      break;
    case 'floats':
      w.packedFloat(ATTR.floats, a.value);
      break;
    case 'ints':
      w.packedInt64(ATTR.ints, a.value);
      break;
    case 'strings':
      for (const s of a.value) w.string(ATTR.strings, s);
      break;
    default:
      fail(`proto-encode: attribute '${name}' has unknown type '${(a as { type: string }).type}'`);
  }
  w.int64(ATTR.type, ATTR_TYPE[a.type]);
  return w;
}

function nodeProto(n: NodeSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(NODE.input, i);
  for (const o of n.outputs) w.string(NODE.output, o);
  if (n.name) w.string(NODE.name, n.name);
  w.string(NODE.opType, n.opType);
  for (const [name, value] of Object.entries(n.attributes)) {
    try {
      w.message(NODE.attribute, attributeProto(name, value));
    } catch (e) {
      if (e instanceof GraphError) throw new GraphError('SERIALIZE_FAILED', `node '${n.name}' (${n.opType}): ${e.message}`, { cause: e });
      throw e;
    }
  }
  if (n.domain) w.string(NODE.domain, n.domain);
  return w;
}

function graphProto(g: GraphSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(GRAPH.node, nodeProto(n));
  w.string(GRAPH.name, g.name);
  for (const t of g.initializers) w.message(GRAPH.initializer, tensorProto(t));
  for (const v of g.inputs) w.message(GRAPH.input, valueInfoProto(v));
  for (const v of g.outputs) w.message(GRAPH.output, valueInfoProto(v));
  for (const v of g.valueInfo ?? []) w.message(GRAPH.valueInfo, valueInfoProto(v));
  return w;
}

/**
 * Serializes a ModelSpec to ONNX ModelProto bytes (protobuf wire format, no dependency).
 * Initializer bytes are copied once into the result, so models with hundreds of MB of weights
 * encode in linear time. Models whose proto would exceed 2 GiB must keep weights in external data.
 *
 * @example
 * const bytes = encodeModel({ irVersion: 10, opsetImports: [{ domain: '', version: 21 }],
 *   producerName: 'mil', graph: { name: 'g', nodes: [], inputs: [], outputs: [], initializers: [] } });
 * const session = await InferenceSession.create(bytes);
 */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const w = new ProtoWriter();
  w.int64(MODEL.irVersion, spec.irVersion);
  w.string(MODEL.producerName, spec.producerName);
  if (spec.producerVersion !== undefined) w.string(MODEL.producerVersion, spec.producerVersion);
  w.message(MODEL.graph, graphProto(spec.graph));
  for (const o of spec.opsetImports) {
    const op = new ProtoWriter();
    op.string(OPSET.domain, o.domain);
    op.int64(OPSET.version, o.version);
    w.message(MODEL.opsetImport, op);
  }
  if (w.size > MAX_PROTO_BYTES) {
    fail(`proto-encode: model '${spec.graph.name}' is ${w.size} bytes, above the 2 GiB protobuf limit; store initializers as external data`);
  }
  return w.finish();
}
