// Shared helpers for the benchmarks in this folder: timing, tables, RSS sampling, result JSON, flags.
export { median, range, sig, sigMap } from './stats';
export { timeOnce, timeOnceWithCpu, timeRuns, summarise, type Timing, type TimingOptions } from './timing';
export { fmt, formatTable, type Cell } from './table';
export { startRssSampler, MiB, type RssSampler } from './rss';
export { reportResult, writeJsonAtomic, hostInfo, runFields, runBench, RESULTS_DIR, type BenchResult } from './results';
export { flag, numberFlag } from './args';
export { createMatmulProbe, type MatmulProbe, type MatmulProbeOptions } from './matmul-ceiling';
export { matmulFlops, forwardFlops, gflops, type MatmulCount } from './flops';
