// Child process of the hardening corpus: loads each case folder through the public loaders and prints one JSON line
// per case (code, message, milliseconds, resident memory). A line "start <id>" comes first, so the parent can name a
// case that hangs.
import { readFileSync, writeSync } from 'node:fs';
import { loadHybrid, loadLlama } from '@mil/models';

const cases = JSON.parse(readFileSync(process.argv[2], 'utf8')) as { id: number; dir: string; loader: 'llama' | 'hybrid' }[];
const say = (s: string) => writeSync(1, `${s}\n`);
for (const c of cases) {
  say(`start ${c.id}`);
  const t0 = performance.now();
  let code: string | null = null;
  let message = '';
  try {
    if (c.loader === 'hybrid') await loadHybrid(c.dir);
    else await loadLlama(c.dir);
  } catch (e) {
    const err = e as { code?: unknown; message?: unknown };
    code = typeof err.code === 'string' ? err.code : null;
    message = String(err.message ?? e);
  }
  say(JSON.stringify({ id: c.id, code, message, ms: performance.now() - t0, rss: process.memoryUsage().rss }));
}
say(JSON.stringify({ done: true, maxRssKb: process.resourceUsage().maxRSS }));
