// Terminal progress for long jobs: a redrawn bar on a TTY, periodic plain lines otherwise (CI logs).

export interface ProgressBar {
  update(done: number, total: number, info?: string): void;
  done(message?: string): void;
}

/**
 * A progress bar on stderr. On a non-TTY it prints a line at most every `everyMs`.
 *
 * @example
 * const bar = progressBar('stage 1'); bar.update(10, 100, 'loss 3.2'); bar.done();
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr, everyMs = 5000): ProgressBar {
  const tty = stream.isTTY === true;
  let last = 0;
  const line = (done: number, total: number, info: string) => {
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 24;
    const full = Math.round(frac * width);
    return `${label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${done}/${total} ${info}`;
  };
  return {
    update(done, total, info = '') {
      const now = Date.now();
      if (tty) stream.write(`\r\x1b[K${line(done, total, info)}`);
      else if (now - last >= everyMs || done === total) {
        stream.write(line(done, total, info) + '\n');
        last = now;
      }
    },
    done(message) {
      if (tty) stream.write('\r\x1b[K');
      if (message) stream.write(`${label}: ${message}\n`);
    },
  };
}

/** The bars of a training job: one per stage (loss, throughput, ETA) and one per evaluation set. */
export interface TrainingBars {
  /** Opens the bar of the stage that starts. */
  stage(label: string): void;
  /** A step of the current stage; closes its bar at the last step. */
  step(e: { step: number; totalSteps: number; loss: number; tokensPerSec: number; etaSec: number }, steps: number): void;
  /** Progress of evaluating `key` (e.g. `student/sotu`). */
  eval(key: string, done: number, total: number): void;
}

/**
 * The stage and evaluation bars `mil distill` shows, for the main job and recipe runs alike.
 *
 * @example const bars = trainingBars(); bars.stage('1/5 align'); bars.step(event, 40);
 */
export function trainingBars(): TrainingBars {
  let bar: ProgressBar = progressBar('');
  const evals = new Map<string, ProgressBar>();
  return {
    stage: (label) => {
      bar = progressBar(label);
    },
    step: (e, steps) => {
      bar.update(e.step, e.totalSteps, `loss ${e.loss.toFixed(3)} ${e.tokensPerSec.toFixed(0)} tok/s eta ${e.etaSec.toFixed(0)}s`);
      if (e.step === e.totalSteps) bar.done(`${steps} steps, final loss ${e.loss.toFixed(3)}`);
    },
    eval: (key, d, t) => {
      const b = evals.get(key) ?? evals.set(key, progressBar(`eval ${key}`)).get(key)!;
      b.update(d, t);
      if (d === t) b.done();
    },
  };
}
