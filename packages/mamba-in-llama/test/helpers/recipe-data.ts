// Seeded data files of every kind a recipe stage reads, and a recipe with one stage of each kind over them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng } from '@mil/core';

const WORDS = 'the union state congress people nation law war peace trade tax army navy states year government citizens'.split(' ');

/** Seeded text, chat, preference and prompt files under `dir`. */
export function writeRecipeData(dir: string, seed = 4): Record<'text' | 'chat' | 'prefs' | 'prompts', string> {
  const rng = createRng(seed);
  const sentence = (n: number) => {
    const w = Array.from({ length: n }, () => WORDS[Math.floor(rng() * WORDS.length)]).join(' ');
    return `${w[0].toUpperCase()}${w.slice(1)}.`;
  };
  const lines = (n: number, f: () => unknown) => Array.from({ length: n }, () => JSON.stringify(f())).join('\n') + '\n';
  const files = { text: join(dir, 'text.jsonl'), chat: join(dir, 'chat.jsonl'), prefs: join(dir, 'prefs.jsonl'), prompts: join(dir, 'prompts.txt') };
  writeFileSync(files.text, lines(300, () => ({ text: sentence(20) })));
  writeFileSync(files.chat, lines(300, () => ({ messages: [{ role: 'user', content: sentence(6) }, { role: 'assistant', content: sentence(10) }] })));
  writeFileSync(files.prefs, lines(40, () => ({ prompt: sentence(5), chosen: ` ${sentence(6)}`, rejected: ` ${sentence(6)}` })));
  writeFileSync(files.prompts, sentence(8));
  return files;
}

const stage = (name: string, kind: string, data: unknown, extra: Record<string, unknown> = {}) => ({
  name, kind, data, loss: { kl: 1, ce: 0 }, trainable: 'mamba', lr: 0.005, steps: 3, layers: { attentionFraction: 0.5 }, ...extra,
});

/** A recipe with one stage of each kind over the files of `writeRecipeData`. */
export function allKindsRecipe(f: ReturnType<typeof writeRecipeData>, steps = 3): Record<string, unknown> {
  return {
    format: 'mil-recipe/1', name: 'all-kinds', student: { variant: 'mamba2' }, batch: 2, seq: 16,
    stages: [
      stage('align', 'align', { paths: [f.text] }, { steps }),
      stage('kd', 'kd', { paths: [f.text] }, { steps: 2 * steps }),
      stage('seqkd', 'seqkd', { pseudoLabels: { prompts: [f.prompts], maxNewTokens: 8, temperature: 0.7 } }, { loss: { kl: 0.1, ce: 1 }, steps }),
      stage('sft', 'sft', { paths: [f.chat] }, { loss: { kl: 1, ce: 1 }, trainable: 'all', lr: 0.002, steps }),
      stage('dpo', 'dpo', { paths: [f.prefs] }, { loss: { kl: 0, ce: 0, beta: 0.1 }, trainable: 'all', lr: 0.002, steps }),
    ],
  };
}

