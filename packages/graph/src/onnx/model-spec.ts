// Plain-object description of an ONNX model: what the builder produces and the protobuf encoder consumes.
// Field names follow onnx.proto; only the parts this project uses are modelled.

/** ONNX TensorProto.DataType codes. */
export const ONNX_DTYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  bfloat16: 16,
} as const;

export type DType = keyof typeof ONNX_DTYPE;

/** A dimension: a fixed size or a symbolic name (ONNX dim_param). */
export type Dim = number | string;

export interface TensorSpec {
  name: string;
  dtype: DType;
  dims: number[];
  /** Little-endian raw bytes (TensorProto.raw_data). Omitted when the data is external. */
  rawData?: Uint8Array;
  /** External data location (TensorProto.external_data + data_location = EXTERNAL). */
  external?: { location: string; offset: number; length: number };
}

export interface ValueInfoSpec {
  name: string;
  dtype: DType;
  shape: Dim[];
}

export type AttributeValue =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number | bigint }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: TensorSpec }
  | { type: 'graph'; value: GraphSpec }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: (number | bigint)[] }
  | { type: 'strings'; value: string[] };

export interface NodeSpec {
  opType: string;
  /** '' (default ONNX domain) or e.g. 'com.microsoft'. */
  domain: string;
  name: string;
  /** Input value names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeValue>;
}

export interface GraphSpec {
  name: string;
  nodes: NodeSpec[];
  inputs: ValueInfoSpec[];
  outputs: ValueInfoSpec[];
  initializers: TensorSpec[];
  valueInfo?: ValueInfoSpec[];
}

export interface ModelSpec {
  irVersion: number;
  /** e.g. [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }] */
  opsetImports: { domain: string; version: number }[];
  producerName: string;
  producerVersion?: string;
  graph: GraphSpec;
}
