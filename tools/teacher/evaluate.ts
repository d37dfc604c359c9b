// Held-out perplexity of a Llama folder on the prepared token streams (SOTU 2001–2021, Brown, Moby Dick).
// Usage: node --conditions=source --import tsx tools/teacher/evaluate.ts --model models/sotu-tiny --data runs/teacher-data
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildLlamaTrainGraph, loadLlama } from '@mil/models';
import { perplexity } from '@mil/eval';

const { values: a } = parseArgs({ options: { model: { type: 'string', default: 'models/sotu-tiny' }, data: { type: 'string', default: 'runs/teacher-data' }, seq: { type: 'string', default: '256' }, threads: { type: 'string', default: '2' }, sets: { type: 'string', default: 'sotu-heldout,brown,moby-dick' } } });
const { config, weights } = await loadLlama(a.model!);
const seq = Number(a.seq);
const out: Record<string, number> = {};
for (const name of a.sets!.split(',')) {
  const b = await readFile(join(a.data!, `${name}.i32`));
  const tokens = new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  const r = await perplexity((g) => buildLlamaTrainGraph(g, config, { maxPositions: seq }).logits, weights, tokens, { seq, batch: 8, threads: Number(a.threads) });
  out[name] = r.perplexity;
  console.log(`${name}: perplexity ${r.perplexity.toFixed(3)} over ${r.tokens} tokens`);
}
console.log(JSON.stringify(out));
