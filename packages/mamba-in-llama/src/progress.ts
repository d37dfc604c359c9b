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
