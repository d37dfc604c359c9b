// mil generate: a continuation from a Llama or hybrid model folder, plain or speculative (a draft model folder, or
// prompt lookup with --draft ngram), streamed as tokens are accepted, ending with one stats line.
import { parseArgs } from 'node:util';
import { createRng } from '@mil/core';
import { decodeAll, modelDrafter, ngramDrafter, plainDecode, speculativeDecode, type DecodeOptions, type DoneEvent, type Drafter } from '@mil/spec-decode';
import { openModel } from './open-model';

export const generateHelp = `mil generate --model <dir> --prompt <text> [--max-new-tokens 80] [--temperature 0] [--top-p 1] [--top-k 0] [--seed 1] [--threads 2]
             [--draft <dir>|ngram] [--speculate 4] [--compare-plain]
  Greedy unless --temperature > 0. --model and --draft take teacher or hybrid (mamba_config.json) folders; --draft
  decodes speculatively (K = --speculate draft tokens per round, output identical to plain greedy decoding);
  --compare-plain also decodes without the draft and reports the speedup.`;

/** Parses a flag that must be a number in [min, max] (integer when asked). */
function numberOption(name: string, raw: string, o: { min: number; max?: number; integer?: boolean }): number {
  const v = Number(raw);
  const bad = !Number.isFinite(v) || v < o.min || (o.max !== undefined && v > o.max) || (o.integer && !Number.isInteger(v));
  if (bad) throw new Error(`--${name} must be ${o.integer ? 'an integer' : 'a number'} ≥ ${o.min}${o.max !== undefined ? ` and ≤ ${o.max}` : ''}, got ${raw}`);
  return v;
}

export async function generateCommand(argv: string[]): Promise<void> {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: 'models/sotu-tiny' },
      prompt: { type: 'string', default: 'The state of the Union is' },
      'max-new-tokens': { type: 'string', default: '80' },
      temperature: { type: 'string', default: '0' },
      'top-p': { type: 'string', default: '1' },
      'top-k': { type: 'string', default: '0' },
      seed: { type: 'string', default: '1' },
      greedy: { type: 'boolean', default: false },
      threads: { type: 'string', default: '2' },
      draft: { type: 'string' },
      speculate: { type: 'string', default: '4' },
      'compare-plain': { type: 'boolean', default: false },
    },
  });
  const maxNewTokens = numberOption('max-new-tokens', a['max-new-tokens']!, { min: 1, integer: true });
  const temperature = a.greedy ? 0 : numberOption('temperature', a.temperature!, { min: 0 });
  const topP = numberOption('top-p', a['top-p']!, { min: 0, max: 1 });
  const topK = numberOption('top-k', a['top-k']!, { min: 0, integer: true });
  const seed = numberOption('seed', a.seed!, { min: 0, integer: true });
  const threads = numberOption('threads', a.threads!, { min: 1, integer: true });
  const k = numberOption('speculate', a.speculate!, { min: 1, max: 32, integer: true });
  if (a['compare-plain'] && !a.draft) throw new Error('--compare-plain needs --draft <dir>|ngram (there is nothing to compare plain decoding with)');

  const target = await openModel(a.model!, { threads });
  const tokenizer = target.tokenizer;
  if (!tokenizer) throw new Error(`${a.model}: no tokenizer.json`);
  let draft: Awaited<ReturnType<typeof openModel>> | null = null;
  let drafter: Drafter | null = null;
  if (a.draft === 'ngram') drafter = ngramDrafter({ maxNgram: 3 });
  else if (a.draft) {
    draft = await openModel(a.draft, { threads });
    if (draft.session.vocabSize !== target.session.vocabSize)
      throw new Error(`--draft ${a.draft}: vocabulary of ${draft.session.vocabSize} tokens, but the model's is ${target.session.vocabSize} (a draft must share the tokenizer)`);
    drafter = modelDrafter(draft.model, { maxLength: draft.maxPositions });
  }

  const prompt = tokenizer.encode(a.prompt!);
  const promptText = tokenizer.decode(prompt);
  const opts = (): DecodeOptions => ({
    maxNewTokens,
    sampling: { temperature, topK, topP },
    rng: createRng(seed),
    eos: tokenizer.eosId ?? undefined,
    // Decode prompt + continuation together so the leading space of the first piece survives.
    decode: (ids) => tokenizer.decode([...prompt, ...ids]).slice(promptText.length),
    maxLength: target.maxPositions,
  });
  process.stdout.write(a.prompt!);
  const events = drafter ? speculativeDecode(target.model, drafter, prompt, { ...opts(), k }) : plainDecode(target.model, prompt, opts());
  const done = await decodeAll(events, (ev) => process.stdout.write(ev.text));
  process.stdout.write('\n');

  let plain: DoneEvent | null = null;
  if (a['compare-plain']) {
    target.session.reset();
    plain = await decodeAll(plainDecode(target.model, prompt, opts()));
  }
  process.stderr.write(statsLine(done, plain, drafter ? k : null, temperature === 0) + '\n');
  await target.session.release();
  await draft?.session.release();
}

/** One line: tokens, acceptance, tokens per round, tokens/s, and the speedup over plain decoding when measured. */
export function statsLine(done: DoneEvent, plain: DoneEvent | null, k: number | null, greedy: boolean): string {
  const s = done.summary;
  const parts = [`${s.newTokens} tokens (${done.finishReason})`];
  if (k !== null) parts.push(`K=${k}`, `acceptance ${(s.acceptanceRate * 100).toFixed(1)}%`, `${s.tokensPerRound.toFixed(2)} tokens/round`);
  parts.push(`${s.tokensPerSecond.toFixed(1)} tokens/s`);
  if (plain) {
    parts.push(`plain ${plain.summary.tokensPerSecond.toFixed(1)} tokens/s`, `speedup ${(s.tokensPerSecond / plain.summary.tokensPerSecond).toFixed(2)}×`);
    if (greedy) parts.push(sameTokens(done.tokens, plain.tokens) ? 'output identical to plain' : 'OUTPUT DIFFERS FROM PLAIN');
  }
  return parts.join(' · ');
}

const sameTokens = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((t, i) => t === y[i]);
