/** Where ONNX graphs run: onnxruntime-node's CPU provider (default), WebGPU (bundled; Vulkan) or CUDA (opt-in install). */
export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda';

/** The execution providers, in the order the CLI lists them. */
export const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'webgpu', 'cuda'];

/**
 * How a compiled graph runs: the one options type every session, job and compile entry point accepts.
 *
 * @example
 * const run: RunOptions = { ep: 'cpu', threads: 2 };
 * const session = await LlamaSession.create(config, weights, run);
 */
export interface RunOptions {
  /** Execution provider (default 'cpu'). */
  ep?: ExecutionProvider;
  /** Intra-op threads (default: the runtime's choice). */
  threads?: number;
  /** Let idle ORT threads spin (lower latency on an idle machine; off is faster on a busy one). */
  spinning?: boolean;
}
