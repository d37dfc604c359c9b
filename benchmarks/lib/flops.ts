// Analytic FLOP counts of the benchmarked steps: every matmul of the forward pass, 2·M·N·K each.

/** One matmul shape of a forward pass, `batch` times over (layers, heads…), and what it is for the report. */
export interface MatmulCount {
  what: string;
  m: number;
  n: number;
  k: number;
  batch: number;
}

/**
 * FLOPs of one counted matmul: 2·M·N·K·batch.
 *
 * @example
 * matmulFlops({ what: 'o projection', m: 2048, n: 256, k: 256, batch: 1 }); // 268435456
 */
export function matmulFlops(c: MatmulCount): number {
  return 2 * c.m * c.n * c.k * c.batch;
}

/**
 * FLOPs of a forward pass: the sum over its matmuls (a training step counts 3× this: two gradient matmuls each).
 *
 * @example
 * const stepFlops = 3 * forwardFlops(matmuls);
 */
export function forwardFlops(matmuls: readonly MatmulCount[]): number {
  return matmuls.reduce((s, c) => s + matmulFlops(c), 0);
}

/**
 * GFLOP/s of `flops` done in `ms` milliseconds.
 *
 * @example
 * gflops(2 * 1024 ** 3, 10); // ≈ 214.7
 */
export function gflops(flops: number, ms: number): number {
  return flops / ms / 1e6;
}
