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
