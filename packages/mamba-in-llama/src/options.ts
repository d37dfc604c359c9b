// Validated command-line flags: every `mil` command parses its argv here, so a bad flag becomes one coded error
// that names the flag, the value and the allowed range — before any work starts.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isMilError } from '@mil/core';

import { CliError } from './errors';

export { CliError };

/** Exit code for an error: 2 for a usage error (bad flags, input too long for the model), 1 for everything else. */
export function exitCodeOf(e: unknown): 1 | 2 {
  return e instanceof CliError ? 2 : 1;
}

/**
 * The one `mil: [CODE] message` line printed for an error (no stack; newlines folded so it stays one line).
 *
 * @example
 * process.stderr.write(errorLine(new CliError('BAD_FLAG', '--seq …')) + '\n');
 */
export function errorLine(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown; hint?: unknown };
  const code = isMilError(e) ? e.code : typeof err?.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(err.code) ? err.code : 'INTERNAL';
  let msg = typeof err?.message === 'string' ? err.message : String(e);
  if (typeof err?.hint === 'string') msg += ` (${err.hint})`;
  return `mil: [${code}] ${msg.replace(/\s*\n\s*/g, ' ').trim()}`;
}

type Options = NonNullable<ParseArgsConfig['options']>;

// parseArgs reads `--seed -1` as two flags and says "ambiguous"; a value that looks like a number is a value.
function joinNegativeValues(argv: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') ? a.slice(2) : null;
    const next = argv[i + 1];
    if (name !== null && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity|NaN)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/**
 * `node:util` parseArgs with coded errors: an unknown flag is UNKNOWN_FLAG, a flag without its value BAD_FLAG,
 * and negative numbers are accepted as values (`--seed -1` reaches the range check instead of "ambiguous").
 *
 * @example
 * const a = parseFlags(['--seq', '64'], { seq: { type: 'string', default: '128' } }, 'mil distill');
 * intFlag('--seq', a.seq, { min: 2, max: 65536 }); // 64
 */
export function parseFlags<O extends Options>(argv: readonly string[], options: O, command: string): ReturnType<typeof parseArgs<{ args: string[]; options: O }>>['values'] {
  try {
    return parseArgs({ args: joinNegativeValues(argv, options), options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = (e as Error).message.split('\n')[0];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new CliError('UNKNOWN_FLAG', `${command}: ${msg}`, { hint: `see mil help` });
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new CliError('BAD_ARGUMENT', `${command}: ${msg}`, { hint: `see mil help` });
    throw new CliError('BAD_FLAG', `${command}: ${msg}`);
  }
}

export interface Range {
  min?: number;
  max?: number;
  /** Exclude `min` itself (e.g. a learning rate > 0). */
  minExclusive?: boolean;
}

function rangeText(kind: 'an integer' | 'a number', r: Range): string {
  const lo = r.min === undefined ? '(-∞' : `${r.minExclusive ? '(' : '['}${r.min}`;
  const hi = r.max === undefined ? '∞)' : `${r.max}]`;
  return `${kind} in ${lo}, ${hi}`;
}

function checkRange(flag: string, raw: string, v: number, kind: 'an integer' | 'a number', r: Range): number {
  const ok =
    Number.isFinite(v) &&
    (kind === 'a number' || Number.isSafeInteger(v)) &&
    (r.min === undefined || (r.minExclusive ? v > r.min : v >= r.min)) &&
    (r.max === undefined || v <= r.max);
  if (!ok) throw new CliError('BAD_FLAG', `${flag} must be ${rangeText(kind, r)}; got ${JSON.stringify(raw)}`);
  return v;
}

// Number('') is 0 and Number(' 1') is 1: only plain decimal / exponent literals count.
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * An integer flag within a range; BAD_FLAG names the flag, the value and the range.
 *
 * @example intFlag('--threads', 'abc', { min: 1, max: 256 }); // throws: --threads must be an integer in [1, 256]; got "abc"
 */
export function intFlag(flag: string, raw: string | undefined, r: Range): number {
  const s = raw ?? '';
  return checkRange(flag, s, NUMBER.test(s) ? Number(s) : NaN, 'an integer', r);
}

/**
 * A number flag within a range.
 *
 * @example numberFlag('--lr', '5e-3', { min: 0, minExclusive: true, max: 10 }); // 0.005
 */
export function numberFlag(flag: string, raw: string | undefined, r: Range): number {
  const s = raw ?? '';
  return checkRange(flag, s, NUMBER.test(s) ? Number(s) : NaN, 'a number', r);
}

/**
 * One of a fixed set of values.
 *
 * @example choiceFlag('--variant', 'mamba3', ['mamba1', 'mamba2'] as const); // throws BAD_FLAG
 */
export function choiceFlag<T extends string>(flag: string, raw: string | undefined, choices: readonly T[]): T {
  if (raw !== undefined && (choices as readonly string[]).includes(raw)) return raw as T;
  throw new CliError('BAD_FLAG', `${flag} must be one of ${choices.join(', ')}; got ${JSON.stringify(raw ?? '')}`);
}

/**
 * A flag that must be present (a path, a prompt).
 *
 * @example requiredFlag('--model', a.model, 'mil export'); // the value, or MISSING_FLAG
 */
export function requiredFlag(flag: string, raw: string | undefined, command: string): string {
  if (raw === undefined || raw === '') throw new CliError('MISSING_FLAG', `${command} needs ${flag}`, { hint: 'see mil help' });
  return raw;
}

/** Upper bound of `--threads` (ORT's intra-op pool; more than this is a typo). */
export const MAX_THREADS = 1024;
/** Upper bound of `--seed` (a 32-bit unsigned integer, as the trainer and the RNG take). */
export const MAX_SEED = 0xffffffff;
