/**
 * @mil/graph: a typed ONNX graph builder with shape inference, serializer, reverse-mode autodiff,
 * optimizers and an onnxruntime-node runner. One definition of a model yields training and inference graphs.
 */
export { Graph, OPSET, IR_VERSION, floatAttr, tensorSpec } from './graph';
export type { BuiltModel, ToModelOptions, NodeRecord } from './graph';
export { Tensor } from './tensor';
export type { Shape } from './tensor';
export { GraphError } from './errors';
export type { GraphErrorCode } from './errors';
export * from './dtypes';
export { broadcastShapes, dimProduct, formatShape } from './shape';
export type { DType, Dim, ModelSpec, GraphSpec, NodeSpec, TensorSpec, ValueInfoSpec, AttributeValue } from './onnx/model-spec';
export { ONNX_DTYPE } from './onnx/model-spec';
export { encodeModel } from './onnx/proto-encode';
export { saveModel, externalizeInitializers } from './onnx/external-data';
export * from './ops';
export { gradCheck } from './testing/grad-check';
export type { GradCheckInput, GradCheckResult } from './testing/grad-check';
export { gradients } from './autodiff/gradients';
export { Runner, toOrt, providerAvailable, providerHint, ortLibraryDir } from './runner';
export type { RunnerOptions, HostTensor } from './runner';
export * from './optim/index';
export { CUDA_PROVIDER, diagnoseCuda, installCudaProvider, type CudaDiagnosis, type InstallCudaOptions } from './providers/cuda-provider';
