// mil generate: sample a continuation from a Llama or hybrid model folder.
import { parseArgs } from 'node:util';
import { LlamaSession, generate, loadLlama } from '@mil/models';

export const generateHelp = `mil generate --model <dir> --prompt <text> [--max-new-tokens 80] [--temperature 0.8] [--top-p 0.95] [--top-k 0] [--seed 1] [--greedy] [--threads 2]`;

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
      threads: { type: 'string', default: '2' },
    },
  });
  const { config, weights, tokenizer } = await loadLlama(a.model!);
  if (!tokenizer) throw new Error(`${a.model}: no tokenizer.json`);
  const session = await LlamaSession.create(config, weights, { threads: Number(a.threads) });
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
