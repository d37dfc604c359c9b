/**
 * @mil/graph: a typed ONNX graph builder with shape inference, serializer, reverse-mode autodiff,
 * and an onnxruntime-node runner. One definition of a model yields training and inference graphs.
 */
export { Graph, OPSET, IR_VERSION, floatAttr, tensorSpec } from './graph';
export type { BuiltModel, ToModelOptions, NodeRecord } from './graph';
export { Tensor } from './tensor';
export type { Shape } from './tensor';
export { GraphError } from './errors';
export type { GraphErrorCode } from './errors';
export {
  type AnyTypedArray,
  BYTES_PER_ELEMENT,
  type FloatDType,
  isFloat,
  type TypedArrayFor,
  typedArrayFrom,
} from './dtypes';
export { broadcastShapes, dimProduct, formatShape } from './shape';
export type { DType, Dim, ModelSpec, GraphSpec, NodeSpec, TensorSpec, ValueInfoSpec, AttributeValue } from './onnx/model-spec';
export { ONNX_DTYPE } from './onnx/model-spec';
export { encodeModel } from './onnx/proto-encode';
export { saveModel, externalizeInitializers } from './onnx/external-data';
export {
  abs,
  add,
  cast,
  causalConvWithState,
  concat,
  constantOfShape,
  conv1d,
  type Conv1dOptions,
  convTranspose1d,
  cumsum,
  div,
  END,
  equal,
  exp,
  expand,
  gather,
  gatherElements,
  gemm,
  type GemmOptions,
  type GqaOptions,
  greater,
  groupQueryAttention,
  identity,
  less,
  linearAttention,
  type LinearAttentionOptions,
  log,
  logSoftmax,
  matmul,
  maximum,
  minimum,
  mul,
  neg,
  oneHot,
  pad,
  pow,
  reciprocal,
  reduceMax,
  reduceMean,
  reduceSum,
  relu,
  reshape,
  rotaryEmbedding,
  type RotaryEmbeddingOptions,
  scatterElementsAdd,
  scatterNDAdd,
  shapeOf,
  sigmoid,
  silu,
  simplifiedLayerNorm,
  skipSimplifiedLayerNorm,
  slice,
  softmax,
  softplus,
  softplusOnnx,
  split,
  sqrt,
  squeeze,
  sub,
  tanh,
  targetLogProbs,
  transpose,
  trilu,
  unsqueeze,
  where,
  zerosLike,
} from './ops';
export { gradients } from './autodiff/gradients';
export { Runner, toOrt, providerAvailable, providerHint, ortLibraryDir } from './runner';
export type { RunnerOptions, HostTensor } from './runner';
export { CUDA_PROVIDER, diagnoseCuda, installCudaProvider, type CudaDiagnosis, type InstallCudaOptions } from './providers/cuda-provider';
export { keepOnlyCudaArch, listFatbinEntries, type FatbinEntry } from './providers/fatbin';
