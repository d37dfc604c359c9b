// A local cluster for development, tests and benchmarks: a real redis-server on a free loopback port and
// `mil worker` processes, each in its own process group (kill -9 of the group also ends its sandboxed children).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { FanoutError } from './errors';

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

/**
 * A real redis-server bound to 127.0.0.1 on a free port, without persistence (needs `redis-server` on the PATH).
 *
 * @example
 * const redis = await startLocalRedis(); // redis.url = 'redis://127.0.0.1:<port>'; redis.stop() at the end
 */
export async function startLocalRedis(): Promise<{ url: string; port: number; stop(): void }> {
  if (spawnSync('redis-server', ['--version']).status !== 0)
    throw new FanoutError('QUEUE_UNREACHABLE', 'redis-server is not installed', { hint: 'apt-get install -y redis-server' });
  const port = await freePort();
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() === 'PONG') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, port, stop: () => p.kill('SIGKILL') };
}

/** A running `mil worker` child process and the lines it logged. */
export interface WorkerProcess {
  proc: ChildProcess;
  log: string[];
  /** Resolves when the worker's log shows `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
}

/**
 * Starts `mil worker --queue url …` as a child process: `command` is how to run the CLI (e.g. `[process.execPath,
 * 'node_modules/.bin/mil']`, or the source form with tsx).
 *
 * @example
 * const w = spawnWorkerProcess(redis.url, [process.execPath, cliPath], ['--threads', '1']);
 * await w.waitFor('listening');
 */
export function spawnWorkerProcess(url: string, command: readonly string[], extra: readonly string[] = [], cwd = process.cwd()): WorkerProcess {
  const [exe, ...pre] = command;
  const proc = spawn(exe, [...pre, 'worker', '--queue', url, ...extra], {
    cwd,
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

/** Signals the worker's whole process group (default SIGKILL: a crash, as far as the queue can tell). */
export function killWorkerGroup(w: WorkerProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-w.proc.pid!, signal);
  } catch {
    // already gone
  }
}
