// A fixed held-out split: an example is held out or not by a hash of its content, whatever the file order.
import { createHash } from 'node:crypto';
import type { ChatMessage } from '@mil/checkpoint';
import type { Example } from './examples';
import { DataError } from './errors';

/** The content of an example as canonical text (its source is left out: moving a file does not move the split). */
export function exampleContent(ex: Example): string {
  if (ex.kind === 'text') return JSON.stringify(['text', ex.text]);
  if (ex.kind === 'chat') return JSON.stringify(['chat', ex.messages.map((m) => [m.role, m.content])]);
  const norm = (v: string | ChatMessage[]) => (typeof v === 'string' ? v : v.map((m) => [m.role, m.content]));
  return JSON.stringify(['preference', norm(ex.prompt), norm(ex.chosen), norm(ex.rejected)]);
}

/**
 * True when the example belongs to the held-out set: the first 32 bits of SHA-256(`salt` + content), as a
 * fraction of 2³², fall below `fraction` (default 0.01). Deterministic across runs, machines and file orders.
 *
 * @example
 * isHeldOut({ kind: 'text', text: 'x', source: 'a.txt' }, 0.01); // false for ~99% of contents
 */
export function isHeldOut(ex: Example, fraction = 0.01, salt = ''): boolean {
  if (!(fraction >= 0 && fraction <= 1)) throw new DataError('BAD_OPTION', `heldOutFraction must be in [0, 1], got ${fraction}`);
  const h = createHash('sha256').update(salt).update(exampleContent(ex)).digest();
  return h.readUInt32BE(0) / 2 ** 32 < fraction;
}
