// The flags every `mil` command takes to say where it runs: --ep and --threads, parsed into @mil/core's RunOptions.
import { EXECUTION_PROVIDERS, type RunOptions } from '@mil/core';
import { choiceFlag, intFlag, MAX_THREADS } from './options';

/** Default intra-op threads of every command (the dev machine has 2 cores). */
export const DEFAULT_THREADS = 2;

/** The `parseArgs` options of the run flags; spread into each command's own options. */
export const runFlagSpecs = {
  ep: { type: 'string', default: 'cpu' },
  threads: { type: 'string', default: String(DEFAULT_THREADS) },
} as const;

/** The run flags as they appear in each command's usage line. */
export const runFlagsHelp = `[--ep ${EXECUTION_PROVIDERS.join('|')}] [--threads ${DEFAULT_THREADS}]`;

/**
 * Validates `--ep` and `--threads` into `RunOptions` (spinning off: the jobs run JS between graph runs).
 *
 * @example
 * parseRunFlags({ ep: 'webgpu', threads: '4' }); // { ep: 'webgpu', threads: 4, spinning: false }
 */
export function parseRunFlags(values: { ep?: string; threads?: string }): RunOptions & { threads: number } {
  const ep = choiceFlag('--ep', values.ep ?? 'cpu', EXECUTION_PROVIDERS);
  const threads = intFlag('--threads', values.threads ?? String(DEFAULT_THREADS), { min: 1, max: MAX_THREADS });
  return { ep, threads, spinning: false };
}
