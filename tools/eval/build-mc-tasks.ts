// Builds the two offline multiple-choice tasks of @mil/eval from held-out text (SOTU 2001–2021, which the embedded
// teacher never trained on), deterministically (seeded):
//   sotu-lastword.jsonl  LAMBADA-style: a passage whose last word also occurs earlier in it; 4 choices = that word
//                        and 3 other words of the passage.
//   sotu-nextsent.jsonl  HellaSwag-style: 3 sentences of a speech; 4 endings = the true next sentence and 3
//                        sentences of similar length from other speeches.
// Run: node --conditions=source --import tsx tools/eval/build-mc-tasks.ts [--items 100] [--seed 14]
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRng } from '@mil/core';
import { loadSplits } from '@mil/corpora';

const { values: a } = parseArgs({ options: { items: { type: 'string', default: '100' }, seed: { type: 'string', default: '14' }, out: { type: 'string', default: 'packages/eval/data' } } });
const N = Number(a.items);
const rng = createRng(Number(a.seed));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
const shuffleIn = (right: string, wrong: string[]) => {
  const gold = Math.floor(rng() * (wrong.length + 1));
  const choices = [...wrong];
  choices.splice(gold, 0, right);
  return { choices, gold };
};

const speeches = loadSplits().heldOut.sotu.map((d) => d.text);
const sentences = speeches.map((t) =>
  t.split(/(?<=[.!?])\s+(?=["“A-Z])/).map((s) => s.trim()).filter((s) => s.split(' ').length >= 6 && s.split(' ').length <= 40),
);

function writeJsonl(file: string, rows: object[]): void {
  mkdirSync(a.out!, { recursive: true });
  const path = join(a.out!, file);
  writeFileSync(`${path}.tmp`, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  renameSync(`${path}.tmp`, path);
  process.stdout.write(`${path}: ${rows.length} items\n`);
}

// LAMBADA-style last word.
const words = (s: string) => s.match(/[A-Za-z][A-Za-z'-]*/g) ?? [];
const lastword: object[] = [];
const seenL = new Set<string>();
for (let tries = 0; lastword.length < N && tries < 100000; tries++) {
  const d = Math.floor(rng() * speeches.length);
  const ss = sentences[d];
  if (ss.length < 5) continue;
  const i = Math.floor(rng() * (ss.length - 4));
  const passage = ss.slice(i, i + 4).join(' ');
  const m = passage.match(/^(.*\s)([A-Za-z][A-Za-z'-]*)([.!?]["”]?)$/s);
  if (!m) continue;
  const [, head, target] = m;
  const earlier = new Set(words(head).filter((w) => w.length >= 4));
  if (target.length < 4 || !earlier.has(target) || seenL.has(passage)) continue;
  const others = [...earlier].filter((w) => w.toLowerCase() !== target.toLowerCase());
  if (others.length < 3) continue;
  const wrong = new Set<string>();
  while (wrong.size < 3) wrong.add(pick(others));
  seenL.add(passage);
  const { choices, gold } = shuffleIn(` ${target}`, [...wrong].map((w) => ` ${w}`));
  lastword.push({ context: head.trimEnd(), choices, gold });
}
writeJsonl('sotu-lastword.jsonl', lastword);

// HellaSwag-style next sentence.
const nextsent: object[] = [];
const seenN = new Set<string>();
for (let tries = 0; nextsent.length < N && tries < 100000; tries++) {
  const d = Math.floor(rng() * speeches.length);
  const ss = sentences[d];
  if (ss.length < 5) continue;
  const i = Math.floor(rng() * (ss.length - 4));
  const context = ss.slice(i, i + 3).join(' ');
  const right = ss[i + 3];
  if (seenN.has(context)) continue;
  // Distractors: sentences of other speeches within ±25% of the true ending's length in characters.
  const wrong: string[] = [];
  for (let t = 0; wrong.length < 3 && t < 2000; t++) {
    const e = Math.floor(rng() * speeches.length);
    if (e === d) continue;
    const s = pick(sentences[e]);
    if (s && Math.abs(s.length - right.length) <= right.length * 0.25 && !wrong.includes(s)) wrong.push(s);
  }
  if (wrong.length < 3) continue;
  seenN.add(context);
  const { choices, gold } = shuffleIn(` ${right}`, wrong.map((w) => ` ${w}`));
  nextsent.push({ context, choices, gold });
}
writeJsonl('sotu-nextsent.jsonl', nextsent);
