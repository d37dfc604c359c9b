// mil generate: sample a continuation from a Llama or hybrid model folder.
import { parseArgs } from 'node:util';
import { generate } from '@mil/models';
import { CliError } from '../errors';
import { openModel } from '../model-folder';
import { parseRunFlags, runFlagSpecs, runFlagsHelp } from '../run-flags';

export const generateHelp = `mil generate --model <dir> --prompt <text> [--max-new-tokens 80] [--temperature 0.8] [--top-p 0.95] [--top-k 0] [--seed 1] [--greedy]
            ${runFlagsHelp}   (a teacher folder or a hybrid student folder, e.g. runs/<run>/student)`;

export async function generateCommand(argv: string[]): Promise<void> {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: 'models/sotu-tiny' },
      prompt: { type: 'string', default: 'The state of the Union is' },
      'max-new-tokens': { type: 'string', default: '80' },
      temperature: { type: 'string', default: '0.8' },
      'top-p': { type: 'string', default: '0.95' },
      'top-k': { type: 'string', default: '0' },
      seed: { type: 'string', default: '1' },
      greedy: { type: 'boolean', default: false },
      ...runFlagSpecs,
    },
  });
  const run = parseRunFlags(a);
  const { session, tokenizer } = await openModel(a.model!, run);
  if (!tokenizer) {
    await session.release();
    throw new CliError('NO_TOKENIZER', `${a.model}: no tokenizer.json`);
  }
  const prompt = tokenizer.encode(a.prompt!);
  const out: number[] = [];
  process.stdout.write(a.prompt!);
  let shown = '';
  for await (const t of generate(session, prompt, {
    maxNewTokens: Number(a['max-new-tokens']),
    doSample: !a.greedy,
    temperature: Number(a.temperature),
    topP: Number(a['top-p']),
    topK: Number(a['top-k']) || undefined,
    seed: Number(a.seed),
    eosTokenId: tokenizer.eosId ?? undefined,
  })) {
    out.push(t.token);
    // Decode prompt + continuation together so the leading space of the first piece survives.
    const text = tokenizer.decode([...prompt, ...out]).slice(tokenizer.decode(prompt).length);
    process.stdout.write(text.slice(shown.length));
    shown = text;
  }
  process.stdout.write('\n');
  await session.release();
}
