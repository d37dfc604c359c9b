// Writes the teacher's own continuations of SOTU 1790–2000 prompts, the data of sequence-level knowledge distillation
// for speculative-decoding drafts (tools/draft/train-draft.ts --generations): a greedy draft is accepted where it
// predicts the target's argmax on the target's own output, so the draft learns on text the teacher wrote.
// Each sample is a prompt of --prompt-tokens training tokens at a seeded random offset followed by --new-tokens tokens
// of the teacher: greedy with probability --greedy-share, else sampled at --temperature.
// Output: the samples back to back as little-endian uint16 token ids (vocabularies up to 65,536), written atomically.
// Run several shards in parallel (one ORT thread each) and pass all the files to train-draft.ts:
//   node --conditions=source --import tsx tools/draft/generate-teacher.ts --shard 0 --seconds 90 --out runs/gen/0.u16
import { parseArgs } from 'node:util';
import { createRng } from '@mil/core';
import { writeFileAtomic } from '@mil/checkpoint';
import { LlamaSession, loadLlama } from '@mil/models';
import { loadMainJobData } from '@mil/distill';
import { argmax, processedDistribution, sampleFromProbs } from '@mil/spec-decode';

const { values: a } = parseArgs({
  options: {
    teacher: { type: 'string', default: 'models/sotu-tiny' },
    out: { type: 'string' },
    shard: { type: 'string', default: '0' },
    seconds: { type: 'string', default: '60' },
    'max-samples': { type: 'string', default: '100000' },
    'prompt-tokens': { type: 'string', default: '64' },
    'new-tokens': { type: 'string', default: '256' },
    temperature: { type: 'string', default: '0.8' },
    'greedy-share': { type: 'string', default: '0.5' },
    'corpus-tokens': { type: 'string', default: '2000000' },
    threads: { type: 'string', default: '1' },
  },
});
if (!a.out) throw new Error('generate-teacher: --out <file.u16> is required');
const num = (k: keyof typeof a) => Number(a[k]);
const shard = num('shard');
const promptTokens = num('prompt-tokens');
const newTokens = num('new-tokens');
const greedyShare = num('greedy-share');
const temperature = num('temperature');

const teacher = await loadLlama(a.teacher!);
if (!teacher.tokenizer) throw new Error(`generate-teacher: ${a.teacher} has no tokenizer.json`);
const corpus = loadMainJobData(teacher.tokenizer, { trainTokens: num('corpus-tokens'), evalTokens: 1, seed: 0 }).train;
const session = await LlamaSession.create(teacher.config, teacher.weights, { threads: num('threads'), spinning: false, maxPositions: promptTokens + newTokens + 1 });
const rng = createRng(1000 + shard);
const out: number[] = [];
const t0 = performance.now();
let samples = 0;
let greedySamples = 0;
while (samples < num('max-samples') && performance.now() - t0 < num('seconds') * 1000) {
  const at = Math.floor(rng() * (corpus.length - promptTokens));
  const prompt = Array.from(corpus.subarray(at, at + promptTokens));
  const greedy = rng() < greedyShare;
  let row = await session.prefill(prompt);
  const sample = [...prompt];
  for (let i = 0; i < newTokens; i++) {
    const next = greedy ? argmax(row) : sampleFromProbs(processedDistribution(row, { temperature }), rng);
    sample.push(next);
    if (i + 1 < newTokens) row = await session.decode(next);
  }
  out.push(...sample);
  samples++;
  if (greedy) greedySamples++;
}
await session.release();
await writeFileAtomic(a.out, new Uint8Array(Uint16Array.from(out).buffer));
const sec = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ shard, samples, greedySamples, tokens: out.length, generated: samples * newTokens, seconds: Math.round(sec), tokensPerSecond: Math.round((samples * newTokens) / sec) }));
