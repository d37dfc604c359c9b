// Renders a report.html (or any local HTML file) to PNG with headless Debian Chromium, to check that it renders.
// Install once: apt-get install -y chromium
// Run: node --conditions=source --import tsx tools/report/screenshot.ts <report.html> [out.png] [--width 1100] [--height 4000]
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { MilError } from '@mil/core';

const { values: a, positionals } = parseArgs({ allowPositionals: true, options: { width: { type: 'string', default: '1100' }, height: { type: 'string', default: '4000' } } });
const html = positionals[0];
if (!html || !existsSync(html)) throw new MilError('NOT_FOUND', `screenshot: no HTML file ${html ?? '(none given)'}`, { hint: 'usage: tools/report/screenshot.ts <report.html> [out.png]' });
const out = resolve(positionals[1] ?? html.replace(/\.html?$/, '') + '.png');
const browser = ['chromium', 'chromium-browser', 'google-chrome'].find((b) => {
  try {
    execFileSync('which', [b], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
if (!browser) throw new MilError('NOT_FOUND', 'screenshot: no chromium on PATH', { hint: 'apt-get install -y chromium' });
const tmp = join(dirname(out), `.${process.pid}.screenshot.png`);
execFileSync(browser, [
  '--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--hide-scrollbars', `--window-size=${a.width},${a.height}`, `--screenshot=${tmp}`, pathToFileURL(resolve(html)).href,
], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
if (!existsSync(tmp) || statSync(tmp).size === 0) throw new MilError('SCREENSHOT_FAILED', `screenshot: chromium wrote no PNG for ${html}`);
renameSync(tmp, out);
process.stdout.write(`${out}\n`);
