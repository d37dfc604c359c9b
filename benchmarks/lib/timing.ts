// Timing of sync or async work: warm-up runs first (JIT, allocator, ORT arenas), then timed runs.
import { median, range } from './stats';

export interface TimingOptions {
  /** Untimed runs before the timed ones (default 1). */
  warmup?: number;
  /** Timed runs (default 5). */
  runs?: number;
  /** Called after every run, warm-up included, with its index (negative for warm-ups) and milliseconds. */
  onRun?: (index: number, ms: number) => void;
}

export interface Timing {
  samplesMs: number[];
  medianMs: number;
  minMs: number;
  maxMs: number;
}

/** Milliseconds taken by one call of `fn` (awaited). */
export async function timeOnce(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * Wall milliseconds of one call of `fn` (awaited) and the CPU milliseconds the process spent meanwhile (user +
 * system, every thread: ORT's intra-op threads included). On a shared machine the CPU time moves far less with other
 * load than the wall time (a preempted run waits without using CPU), so ratios of CPU times estimate the ratios an
 * idle machine would show, as long as the work keeps its threads busy (ORT with spinning off).
 *
 * @example
 * const { ms, cpuMs } = await timeOnceWithCpu(() => session.decode(id));
 */
export async function timeOnceWithCpu(fn: () => unknown): Promise<{ ms: number; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const ms = await timeOnce(fn);
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1e3 };
}

/** Summarises samples taken elsewhere (e.g. interleaved measurements). */
export function summarise(samplesMs: number[]): Timing {
  const { min, max } = range(samplesMs);
  return { samplesMs, medianMs: median(samplesMs), minMs: min, maxMs: max };
}

/**
 * Runs `fn` `warmup` times untimed, then `runs` times timed; returns the samples and their median.
 *
 * @example
 * const t = await timeRuns(() => session.run(feeds), { warmup: 2, runs: 9 });
 * console.log(t.medianMs);
 */
export async function timeRuns(fn: () => unknown, opts: TimingOptions = {}): Promise<Timing> {
  const warmup = opts.warmup ?? 1;
  const runs = opts.runs ?? 5;
  for (let i = 0; i < warmup; i++) opts.onRun?.(i - warmup, await timeOnce(fn));
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const ms = await timeOnce(fn);
    samples.push(ms);
    opts.onRun?.(i, ms);
  }
  return summarise(samples);
}
