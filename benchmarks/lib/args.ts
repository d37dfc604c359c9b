// Tiny command-line flag reader for benchmarks: `--name` (boolean) and `--name=value` / `--name value`.

/**
 * Value of `--name`: the string after `=` or the next argument, `true` for a bare flag, undefined when absent.
 *
 * @example
 * const runs = Number(flag('runs') ?? 7);
 */
export function flag(name: string, argv: readonly string[] = process.argv.slice(2)): string | true | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === `--${name}`) {
      const next = argv[i + 1];
      return next !== undefined && !next.startsWith('--') ? next : true;
    }
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

/** Numeric flag with a default (a bare flag or a non-number is an error). */
export function numberFlag(name: string, fallback: number, argv?: readonly string[]): number {
  const v = flag(name, argv);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v === true || !Number.isFinite(n)) throw new Error(`--${name} expects a number, got ${String(v)}`);
  return n;
}
