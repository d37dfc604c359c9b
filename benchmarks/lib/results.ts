// Benchmark results: one JSON object per bench, written atomically to benchmarks/results/<bench>.json and printed
// as the last stdout line (so CI can `tail -n 1` it).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

/** The fields every benchmark result carries; benches add their own comparison fields. */
export interface BenchResult {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  [field: string]: unknown;
}

/** benchmarks/results, next to this lib folder. */
export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Writes `json` to `path` via a temp file in the same directory and a rename. */
export function writeJsonAtomic(path: string, json: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(json, null, 2) + '\n');
  renameSync(tmp, path);
}

/** Where this run happened (a ratio is only comparable with others from similar machines). */
export function hostInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu_model: cpus[0]?.model ?? 'unknown',
    logical_cpus: cpus.length,
    loadavg_1m: Number(os.loadavg()[0].toFixed(2)),
    date: new Date().toISOString(),
  };
}

/**
 * Writes the result to benchmarks/results/<bench>.json and prints it as one JSON line (call it last).
 *
 * @example
 * reportResult({ bench: 'graph', metric: 'fraction_of_matmul_ceiling', value: 0.4, unit: 'ratio' });
 */
export function reportResult(result: BenchResult, dir = RESULTS_DIR): string {
  const path = join(dir, `${result.bench}.json`);
  writeJsonAtomic(path, result);
  process.stdout.write(JSON.stringify(result) + '\n');
  return path;
}

/** The closing fields every bench reports: rounds, setup/measure seconds, peak RSS and the host. */
export function runFields(o: { rounds: number; warmup: number; setupMs: number; measureMs: number; peakBytes: number }): Record<string, unknown> {
  const r = (x: number) => Number(x.toPrecision(4));
  return {
    runs: { rounds: o.rounds, warmup_rounds: o.warmup },
    setup_s: r(o.setupMs / 1e3),
    measure_s: r(o.measureMs / 1e3),
    peak_rss_mib: r(o.peakBytes / (1024 * 1024)),
    host: hostInfo(),
  };
}

/** Runs a bench's main(); a failure prints the stack and exits 1. */
export function runBench(name: string, main: () => Promise<void>): void {
  main().catch((e) => {
    process.stderr.write(`bench:${name} failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
