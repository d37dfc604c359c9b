// The ORT MatMul ceiling: one fp32 n×n×n MatMul through @mil/graph's Runner on the CPU, the throughput that
// training / inference graphs are compared with (a ratio measured in the same run, so both see the same load).
import { Graph, Runner, matmul } from '@mil/graph';
import { mulberry32, randn, type ExecutionProvider } from '@mil/core';

export interface MatmulProbeOptions {
  /** Side of the square matrices (default 1024). */
  n?: number;
  /** Intra-op threads (default 2). */
  threads?: number;
  /** Embed B as an initializer, so ORT pre-packs it at load; otherwise B is fed as an input (as training weights are). */
  prepacked: boolean;
  /** Seed of the random operands (default 20241130). */
  seed?: number;
  /** Runner's `spinning` option (default: ORT's, on). */
  spinning?: boolean;
  /** Execution provider (default cpu): the ceiling of the provider the compared graphs run on. */
  ep?: ExecutionProvider;
}

export interface MatmulProbe {
  /** 2·n³: FLOPs of one run. */
  readonly flops: number;
  run(): Promise<unknown>;
  release(): Promise<void>;
}

/**
 * Builds one fp32 MatMul A·B (A [n,n] ~ N(0,1), B ~ N(0, 1/n)) and returns a runner for it.
 *
 * @example
 * const mm = await createMatmulProbe({ prepacked: true, threads: 2 });
 * const ms = await timeOnce(() => mm.run());
 * const gflops = mm.flops / ms / 1e6;
 */
export async function createMatmulProbe(opts: MatmulProbeOptions): Promise<MatmulProbe> {
  const n = opts.n ?? 1024;
  const rand = mulberry32(opts.seed ?? 20241130);
  const aData = randn(rand, n * n);
  const bData = randn(rand, n * n, 1 / Math.sqrt(n));
  const g = new Graph('matmul_ceiling');
  const a = g.input('a', 'float32', [n, n]);
  const b = opts.prepacked ? g.param('b', 'float32', [n, n]) : g.input('b', 'float32', [n, n]);
  const model = g.toModel({ outputs: { c: matmul(a, b) }, weights: 'initializers', weightData: () => bData });
  const runner = await Runner.create(model, { ep: opts.ep ?? 'cpu', threads: opts.threads ?? 2, optimization: 'all', spinning: opts.spinning });
  const feeds = { a: { data: aData, dims: [n, n] }, ...(opts.prepacked ? {} : { b: { data: bData, dims: [n, n] } }) };
  return { flops: 2 * n ** 3, run: () => runner.run(feeds), release: () => runner.release() };
}
