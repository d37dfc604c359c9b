import * as ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { BuiltModel } from './graph';
import type { DType } from './onnx/model-spec';
import type { AnyTypedArray } from './dtypes';
import type { ExecutionProvider, RunOptions } from '@mil/core';
import { GraphError } from './errors';
import { diagnoseCuda } from './providers/cuda-provider';
import { encodeModel } from './onnx/proto-encode';

/**
 * `RunOptions` (execution provider, threads, spinning) plus what only a bare Runner needs. A missing provider raises
 * GraphError 'PROVIDER_UNAVAILABLE' with a hint on how to get it. Spinning off helps on busy machines with few
 * cores: measured 435 vs 587 ms per training step on the loaded 2-core dev box (benchmarks/README.md).
 */
export interface RunnerOptions extends RunOptions {
  /** ORT graph optimisation level (default 'all'). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Keep these outputs on the GPU (webgpu only). Reading them back aborts onnxruntime-node 1.29 (tools/device/README.md). */
  gpuOutputs?: string[];
}

/** How to get a provider that is missing here (the `hint` of a PROVIDER_UNAVAILABLE error). */
export function providerHint(ep: ExecutionProvider): string {
  if (ep === 'cuda')
    return (
      `the cuda provider is an opt-in install: run \`mil install-provider cuda\` (pinned, checksummed, from the npm ` +
      `registry); it also needs an NVIDIA GPU with driver ≥ 580 and the CUDA 13 runtime. What this machine lacks: ` +
      `${diagnoseCuda().missing.join('; ') || 'nothing known'}; or run with --ep cpu`
    );
  if (ep === 'webgpu')
    return (
      `webgpu (bundled with onnxruntime-node on Linux/Windows x64) needs a working Vulkan driver: an NVIDIA/AMD/Intel ` +
      `GPU driver with the Vulkan loader (libvulkan.so.1), or Mesa's software rasteriser lavapipe (Mesa 25 or newer) ` +
      `for a machine without a GPU; or run with --ep cpu`
    );
  return 'the cpu provider is always available';
}

function unavailable(ep: ExecutionProvider, why: string, cause?: unknown): GraphError {
  return new GraphError('PROVIDER_UNAVAILABLE', `execution provider '${ep}' is unavailable: ${why}`, { hint: providerHint(ep), cause });
}

/** A host tensor: typed-array data with its dims (float16 as Uint16Array bits). */
export interface HostTensor {
  data: AnyTypedArray;
  dims: readonly number[];
}

const ORT_TYPE: Partial<Record<DType, ort.Tensor.Type>> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int64: 'int64',
  int32: 'int32',
  bool: 'bool',
  uint8: 'uint8',
  int8: 'int8',
};

function typeOf(data: AnyTypedArray): ort.Tensor.Type {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint16Array) return 'float16';
  if (data instanceof Int8Array) return 'int8';
  return 'uint8';
}

/** Wraps a host tensor without copying. `dtype` disambiguates Uint8Array (bool vs uint8). */
export function toOrt(t: HostTensor | ort.Tensor, dtype?: DType): ort.Tensor {
  if (t instanceof ort.Tensor) return t;
  const h = t as HostTensor;
  const type = (dtype && ORT_TYPE[dtype]) || typeOf(h.data);
  return new ort.Tensor(type, h.data as never, h.dims as number[]);
}

/** Where onnxruntime-node's native library lives (CUDA provider libraries must sit beside it). */
export function ortLibraryDir(): string {
  const req = createRequire(import.meta.url);
  const pkg = dirname(req.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Whether a provider can be used here (cpu always; cuda when its provider library is installed; webgpu on Linux/Windows x64). */
export function providerAvailable(ep: ExecutionProvider): boolean {
  if (ep === 'cpu') return true;
  const backends = ort.listSupportedBackends().map((b) => b.name);
  if (ep === 'cuda') return backends.includes('cuda') && existsSync(join(ortLibraryDir(), 'libonnxruntime_providers_cuda.so'));
  return backends.includes('webgpu');
}

/**
 * Runs a built model with onnxruntime-node. Persistent feeds (weights) are wrapped once and reused each step,
 * so updating the underlying typed arrays in place (as the optimizers do) costs no copy.
 *
 * @example
 * const run = await Runner.create(model, { ep: 'cpu', threads: 2 });
 * run.setPersistent({ w: { data: wData, dims: [4, 2] } });
 * const { y } = await run.run({ x: { data: xData, dims: [3, 4] } });
 */
export class Runner {
  private persistent = new Map<string, ort.Tensor>();
  /** Wall time of the last run in milliseconds. */
  lastRunMs = 0;

  private constructor(
    readonly session: ort.InferenceSession,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
    readonly ep: ExecutionProvider,
    private readonly inputTypes: Map<string, DType>,
  ) {}

  static async create(model: BuiltModel | Uint8Array | string, opts: RunnerOptions = {}): Promise<Runner> {
    const ep = opts.ep ?? 'cpu';
    if (!providerAvailable(ep))
      throw unavailable(
        ep,
        ep === 'cuda'
          ? `libonnxruntime_providers_cuda.so is not in ${ortLibraryDir()}`
          : `this onnxruntime-node build has no '${ep}' backend on ${process.platform}/${process.arch}`,
      );
    const bytes = typeof model === 'string' ? model : model instanceof Uint8Array ? model : encodeModel(model.spec);
    const so: ort.InferenceSession.SessionOptions = {
      executionProviders: [ep],
      graphOptimizationLevel: opts.optimization ?? 'all',
      ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
      ...(opts.spinning === false ? { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } } : {}),
      ...(opts.gpuOutputs ? { preferredOutputLocation: Object.fromEntries(opts.gpuOutputs.map((n) => [n, 'gpu-buffer' as const])) } : {}),
    };
    let session: ort.InferenceSession;
    try {
      session = typeof bytes === 'string' ? await ort.InferenceSession.create(bytes, so) : await ort.InferenceSession.create(bytes, so);
    } catch (e) {
      const msg = (e as Error).message;
      // A provider that is built in but finds no device (webgpu without a Vulkan adapter, cuda without a GPU).
      if (ep !== 'cpu' && /adapter|vulkan|cuda|libcu|device/i.test(msg)) throw unavailable(ep, `onnxruntime found no usable device (${/Failed[^\n]*/.exec(msg)?.[0] ?? msg.split('\n')[0].slice(-160)})`, e);
      throw new GraphError('RUN_FAILED', `onnxruntime could not load the model on '${ep}': ${msg}`, { cause: e });
    }
    const types = new Map<string, DType>();
    if (typeof model === 'object' && !(model instanceof Uint8Array))
      for (const v of model.spec.graph.inputs) types.set(v.name, v.dtype);
    return new Runner(session, session.inputNames, session.outputNames, ep, types);
  }

  /** Sets feeds that stay between runs (e.g. weights). The typed arrays are referenced, not copied. */
  setPersistent(feeds: Record<string, HostTensor | ort.Tensor> | Map<string, HostTensor | ort.Tensor>): void {
    const entries = feeds instanceof Map ? [...feeds] : Object.entries(feeds);
    for (const [name, t] of entries) {
      if (!this.inputNames.includes(name)) continue;
      this.persistent.set(name, toOrt(t, this.inputTypes.get(name)));
    }
  }

  /** Runs the model; feeds not given here come from the persistent set. Returns host tensors by output name. */
  async run(feeds: Record<string, HostTensor | ort.Tensor>, fetches?: string[]): Promise<Record<string, HostTensor & { tensor: ort.Tensor }>> {
    const all: Record<string, ort.Tensor> = {};
    for (const name of this.inputNames) {
      const f = feeds[name];
      const t = f ? toOrt(f, this.inputTypes.get(name)) : this.persistent.get(name);
      if (!t) throw new GraphError('BAD_FEED', `missing feed "${name}" (model inputs: ${this.inputNames.join(', ')})`);
      all[name] = t;
    }
    for (const name of Object.keys(feeds))
      if (!this.inputNames.includes(name)) throw new GraphError('BAD_FEED', `unknown feed "${name}" (model inputs: ${this.inputNames.join(', ')})`);
    const t0 = performance.now();
    let out: ort.InferenceSession.ReturnType;
    try {
      out = fetches ? await this.session.run(all, fetches) : await this.session.run(all);
    } catch (e) {
      throw new GraphError('RUN_FAILED', `onnxruntime run failed: ${(e as Error).message}`, { cause: e });
    }
    this.lastRunMs = performance.now() - t0;
    const res: Record<string, HostTensor & { tensor: ort.Tensor }> = {};
    for (const [name, t] of Object.entries(out)) {
      const data = t.location === 'cpu' ? (t.data as AnyTypedArray) : (new Float32Array(0) as AnyTypedArray);
      res[name] = { data, dims: t.dims, tensor: t };
    }
    return res;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
