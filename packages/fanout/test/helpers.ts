// Shared by the fan-out tests: a small token corpus from the embedded teacher's tokenizer, a real redis-server on
// a free port, and `mil worker` child processes.
import { loadModelFolder } from '@mil/checkpoint';
import { tokenizeDocuments } from '@mil/distill';
import { loadSplits } from '@mil/models';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../../..');
export const TEACHER = join(ROOT, 'models/sotu-tiny');

export async function corpusTokens(n: number): Promise<Int32Array> {
  const f = await loadModelFolder(TEACHER);
  await f.close();
  return tokenizeDocuments(f.tokenizer!, loadSplits().train, n);
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

/** A real redis-server bound to 127.0.0.1 on a free port, without persistence. */
export async function startRedis(): Promise<{ url: string; port: number; stop(): void }> {
  if (spawnSync('redis-server', ['--version']).status !== 0)
    throw new Error('redis-server is not installed: apt-get install -y redis-server (.ci/run installs it)');
  const port = await freePort();
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() === 'PONG') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, port, stop: () => p.kill('SIGKILL') };
}

export interface WorkerProcess {
  proc: ChildProcess;
  log: string[];
  /** Resolves when the worker's log shows `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
}

/** `mil worker` in its own process group (so kill -9 of the group also kills its sandboxed children). */
export function startWorker(url: string, extra: string[] = []): WorkerProcess {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(ROOT, 'packages/mamba-in-llama/src/cli.ts'), 'worker', '--queue', url, '--threads', '1', ...extra], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const log: string[] = [];
  const waiters: { text: string; ok: () => void }[] = [];
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    log.push(...d.split('\n').filter(Boolean));
    for (const w of [...waiters]) if (log.some((l) => l.includes(w.text))) (waiters.splice(waiters.indexOf(w), 1), w.ok());
  });
  return {
    proc,
    log,
    waitFor: (text, timeoutMs = 60_000) =>
      new Promise((ok, fail) => {
        if (log.some((l) => l.includes(text))) return ok();
        const t = setTimeout(() => fail(new Error(`worker ${proc.pid}: no "${text}" within ${timeoutMs} ms; log:\n${log.join('\n')}`)), timeoutMs);
        waiters.push({ text, ok: () => (clearTimeout(t), ok()) });
      }),
  };
}

export function killGroup(w: WorkerProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-w.proc.pid!, signal);
  } catch {
    // already gone
  }
}
