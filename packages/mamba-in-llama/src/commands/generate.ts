// mil generate: sample a continuation from a Llama or hybrid model folder.
import { readSmallTextFile } from '@mil/checkpoint';
import { generate } from '@mil/models';
import { CliError } from '../errors';
import { loadForDecoding } from '../model-folder';
import { intFlag, MAX_SEED, numberFlag, parseFlags } from '../options';
import { parseRunFlags, runFlagSpecs, runFlagsHelp } from '../run-flags';

export const generateHelp = `mil generate --model <dir> --prompt <text> [--max-new-tokens 80] [--temperature 0.8] [--top-p 0.95] [--top-k 0] [--seed 1] [--greedy]
            ${runFlagsHelp}   (a teacher folder or a hybrid student folder, e.g. runs/<run>/student)
            [--prompt-file <path>] (read the prompt from a file: a long prompt on the command line shrinks the main thread's stack)
            [--truncate-prompt]   (keep only the end of a prompt that, with --max-new-tokens, would not fit the model's context)`;

const FLAGS = {
  model: { type: 'string', default: 'models/sotu-tiny' },
  prompt: { type: 'string' },
  'prompt-file': { type: 'string' },
  'max-new-tokens': { type: 'string', default: '80' },
  temperature: { type: 'string', default: '0.8' },
  'top-p': { type: 'string', default: '0.95' },
  'top-k': { type: 'string', default: '0' },
  seed: { type: 'string', default: '1' },
  greedy: { type: 'boolean', default: false },
  'truncate-prompt': { type: 'boolean', default: false },
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
  const temperature = numberFlag('--temperature', a.temperature, { min: 0, minExclusive: true, max: 100 });
  const topP = numberFlag('--top-p', a['top-p'], { min: 0, minExclusive: true, max: 1 });
  const topK = intFlag('--top-k', a['top-k'], { min: 0, max: 1 << 24 });
  const seed = intFlag('--seed', a.seed, { min: 0, max: MAX_SEED });
  const run = parseRunFlags(a);
  if (a.prompt !== undefined && a['prompt-file'] !== undefined) throw new CliError('BAD_FLAG', 'give --prompt or --prompt-file, not both');
  const text = a['prompt-file'] !== undefined ? await readSmallTextFile(a['prompt-file'], 'prompt file', 64 << 20) : (a.prompt ?? 'The state of the Union is');
  const model = await loadForDecoding(a.model!);
  if (!model.tokenizer) throw new CliError('NO_TOKENIZER', `--model ${a.model}: no tokenizer.json in this folder`);
  const tokenizer = model.tokenizer;
  const ids = tokenizer.encode(text);
  const prompt = fitPrompt(ids, maxNewTokens, model.maxPositions, a['truncate-prompt']!);
  const session = await model.createSession(run);
  const out: number[] = [];
  const promptText = tokenizer.decode(prompt);
  // The prompt as given, or the part kept by --truncate-prompt.
  process.stdout.write(prompt === ids ? text : tokenizer.decode(prompt, { skipSpecialTokens: true }));
  let shown = '';
  for await (const t of generate(session, prompt, { maxNewTokens, doSample: !a.greedy, temperature, topP, topK: topK || undefined, seed, eosTokenId: tokenizer.eosId ?? undefined })) {
    out.push(t.token);
    // Decode prompt + continuation together so the leading space of the first piece survives.
    const shownNow = tokenizer.decode([...prompt, ...out]).slice(promptText.length);
    process.stdout.write(shownNow.slice(shown.length));
    shown = shownNow;
  }
  process.stdout.write('\n');
  await session.release();
}
