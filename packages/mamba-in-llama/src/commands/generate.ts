// mil generate: a continuation from a Llama or hybrid model folder, plain or speculative (a draft model folder, or
// prompt lookup with --draft ngram), streamed as tokens are accepted, ending with one stats line.
import { readSmallTextFile } from '@mil/checkpoint';
import { createRng } from '@mil/core';
import { decodeAll, fallbackDrafter, modelDrafter, ngramDrafter, plainDecode, speculativeDecode, type DecodeOptions, type DoneEvent, type Drafter } from '@mil/spec-decode';
import { CliError } from '../errors';
import { loadForDecoding } from '../model-folder';
import { intFlag, MAX_SEED, numberFlag, parseFlags } from '../options';
import { parseRunFlags, runFlagSpecs, runFlagsHelp } from '../run-flags';
import { specModel } from '../spec-model';

export const generateHelp = `mil generate --model <dir> --prompt <text> [--max-new-tokens 80] [--temperature 0] [--top-p 1] [--top-k 0] [--seed 1]
             [--draft <dir>|ngram] [--speculate 4] [--draft-confidence 0] [--lookup-first] [--compare-plain] ${runFlagsHelp}
             [--prompt-file <path>] [--truncate-prompt]
  Greedy unless --temperature > 0. --model and --draft take teacher or hybrid (mamba_config.json) folders; --draft
  decodes speculatively (K = --speculate draft tokens per round; greedy output is identical to plain decoding);
  --compare-plain also decodes without the draft and reports the speedup. --draft-confidence P (adaptive K): a round
  stops drafting after a draft token the draft model gives less than P; --lookup-first proposes prompt-lookup matches
  (2–3-grams of prompt + output) when there are any and asks the draft model otherwise. --prompt-file reads the prompt from a file
  (a long prompt on the command line shrinks the main thread's stack); --truncate-prompt keeps the end of a prompt
  that, with --max-new-tokens, would not fit the model's context.`;

const FLAGS = {
  model: { type: 'string', default: 'models/sotu-tiny' },
  prompt: { type: 'string' },
  'prompt-file': { type: 'string' },
  'max-new-tokens': { type: 'string', default: '80' },
  temperature: { type: 'string', default: '0' },
  'top-p': { type: 'string', default: '1' },
  'top-k': { type: 'string', default: '0' },
  seed: { type: 'string', default: '1' },
  greedy: { type: 'boolean', default: false },
  'truncate-prompt': { type: 'boolean', default: false },
  draft: { type: 'string' },
  speculate: { type: 'string', default: '4' },
  'draft-confidence': { type: 'string', default: '0' },
  'lookup-first': { type: 'boolean', default: false },
  'compare-plain': { type: 'boolean', default: false },
  ...runFlagSpecs,
} as const;

/**
 * The prompt ids that fit the context with `maxNew` tokens after them: all of them, the last ones (truncate), or a
 * CONTEXT_OVERFLOW usage error with the figures.
 *
 * @example fitPrompt([1, 2, 3], 2, 4, true); // [2, 3]
 */
export function fitPrompt(ids: number[], maxNew: number, context: number, truncate: boolean): number[] {
  if (maxNew >= context) throw new CliError('BAD_FLAG', `--max-new-tokens must be an integer in [0, ${context - 1}] (the model's context is ${context} tokens, max_position_embeddings); got ${maxNew}`);
  if (ids.length + maxNew <= context) return ids;
  if (truncate) return ids.slice(ids.length - (context - maxNew));
  throw new CliError(
    'CONTEXT_OVERFLOW',
    `the prompt is ${ids.length} tokens and --max-new-tokens ${maxNew}, ${ids.length + maxNew} in all, but the model's context is ${context} tokens (max_position_embeddings)`,
    { hint: 'shorten the prompt, lower --max-new-tokens, or pass --truncate-prompt to keep its end' },
  );
}

export async function generateCommand(argv: string[]): Promise<void> {
  const a = parseFlags(argv, FLAGS, 'mil generate');
  const maxNewTokens = intFlag('--max-new-tokens', a['max-new-tokens'], { min: 0, max: 1 << 24 });
  const temperature = a.greedy ? 0 : numberFlag('--temperature', a.temperature, { min: 0, max: 100 });
  const topP = numberFlag('--top-p', a['top-p'], { min: 0, minExclusive: true, max: 1 });
  const topK = intFlag('--top-k', a['top-k'], { min: 0, max: 1 << 24 });
  const seed = intFlag('--seed', a.seed, { min: 0, max: MAX_SEED });
  const k = intFlag('--speculate', a.speculate, { min: 1, max: 32 });
  const minConfidence = numberFlag('--draft-confidence', a['draft-confidence'], { min: 0, max: 0.999 });
  if ((minConfidence > 0 || a['lookup-first']) && (!a.draft || a.draft === 'ngram')) throw new CliError('BAD_FLAG', '--draft-confidence and --lookup-first need --draft <dir> (a draft model)');
  const run = parseRunFlags(a);
  if (a['compare-plain'] && !a.draft) throw new CliError('BAD_FLAG', '--compare-plain needs --draft <dir>|ngram (there is nothing to compare plain decoding with)');
  if (a.prompt !== undefined && a['prompt-file'] !== undefined) throw new CliError('BAD_FLAG', 'give --prompt or --prompt-file, not both');
  const text = a['prompt-file'] !== undefined ? await readSmallTextFile(a['prompt-file'], 'prompt file', 64 << 20) : (a.prompt ?? 'The state of the Union is');

  const target = await loadForDecoding(a.model!);
  const tokenizer = target.tokenizer;
  if (!tokenizer) throw new CliError('NO_TOKENIZER', `--model ${a.model}: no tokenizer.json in this folder`);
  // Checked before any session exists: a prompt past the context never reaches onnxruntime.
  const ids = tokenizer.encode(text);
  const prompt = fitPrompt(ids, maxNewTokens, target.maxPositions, a['truncate-prompt']!);
  const session = await target.createSession(run);
  let releaseDraft = async () => {};
  let drafter: Drafter | null = null;
  if (a.draft === 'ngram') drafter = ngramDrafter({ maxNgram: 3 });
  else if (a.draft) {
    const draft = await loadForDecoding(a.draft);
    const ds = await draft.createSession(run);
    releaseDraft = () => ds.release();
    if (ds.vocabSize !== session.vocabSize)
      throw new CliError('BAD_FLAG', `--draft ${a.draft}: vocabulary of ${ds.vocabSize} tokens, but the model's is ${session.vocabSize} (a draft must share the tokenizer)`);
    drafter = modelDrafter(specModel(ds), { maxLength: draft.maxPositions, minConfidence });
    if (a['lookup-first']) drafter = fallbackDrafter(ngramDrafter({ maxNgram: 3, minNgram: 2 }), drafter);
  }

  const promptText = tokenizer.decode(prompt);
  const opts = (): DecodeOptions => ({
    maxNewTokens,
    sampling: { temperature, topK, topP },
    rng: createRng(seed),
    eos: tokenizer.eosId ?? undefined,
    // Decode prompt + continuation together so the leading space of the first piece survives.
    decode: (out) => tokenizer.decode([...prompt, ...out]).slice(promptText.length),
    maxLength: target.maxPositions,
  });
  // The prompt as given, or the part kept by --truncate-prompt.
  process.stdout.write(prompt === ids ? text : tokenizer.decode(prompt, { skipSpecialTokens: true }));
  const model = specModel(session);
  const events = drafter ? speculativeDecode(model, drafter, prompt, { ...opts(), k }) : plainDecode(model, prompt, opts());
  const done = await decodeAll(events, (ev) => process.stdout.write(ev.text));
  process.stdout.write('\n');

  let plain: DoneEvent | null = null;
  if (a['compare-plain']) {
    session.reset();
    plain = await decodeAll(plainDecode(model, prompt, opts()));
  }
  process.stderr.write(statsLine(done, plain, drafter ? k : null, temperature === 0) + '\n');
  await session.release();
  await releaseDraft();
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
