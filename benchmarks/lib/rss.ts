// Peak resident memory of this process, sampled on a timer and at explicit checkpoints (a timer cannot fire
// while synchronous work such as a pure-JS kernel blocks the event loop, so call `sample()` around it).

export interface RssSampler {
  /** Takes one sample now. */
  sample(): void;
  /** Stops the timer; returns the peak and the last sample in bytes. */
  stop(): { peakBytes: number; lastBytes: number };
  readonly peakBytes: number;
}

/**
 * Starts sampling `process.memoryUsage.rss()` every `intervalMs` milliseconds.
 *
 * @example
 * const rss = startRssSampler();
 * await work();
 * const { peakBytes } = rss.stop();
 */
export function startRssSampler(intervalMs = 50): RssSampler {
  let peak = 0;
  let last = 0;
  const sample = () => {
    last = process.memoryUsage.rss();
    if (last > peak) peak = last;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    sample,
    stop() {
      clearInterval(timer);
      sample();
      return { peakBytes: peak, lastBytes: last };
    },
    get peakBytes() {
      return peak;
    },
  };
}

export const MiB = 1024 * 1024;
