// Cross-checks of a tokenizer: tokenizer.json's own structure (a known model type, a non-empty vocabulary, ids that
// are non-negative integers) and its ids against the model's vocab_size — a mismatch otherwise surfaces much later
// as a raw Gather error in the runtime or as `<unk>` text.
import { CheckpointError } from './errors';

const MODEL_TYPES = ['BPE', 'WordPiece', 'WordLevel', 'Unigram'];

/**
 * Checks the parts of tokenizer.json that @huggingface/tokenizers accepts silently; returns the largest token id
 * and its token. INVALID_TOKENIZER names the file and the token.
 *
 * @example checkTokenizerJson(JSON.parse(text), 'models/x/tokenizer.json').maxId;
 */
export function checkTokenizerJson(json: Record<string, unknown>, source: string): { maxId: number; maxToken: string } {
  const bad = (msg: string): never => {
    throw new CheckpointError('BAD_TOKENIZER', `${source}: ${msg}`, { path: source });
  };
  const model = json.model as Record<string, unknown>;
  const type = model.type;
  if (!MODEL_TYPES.includes(type as string)) bad(`model.type ${JSON.stringify(type)} is not a known tokenizer model; expected one of ${MODEL_TYPES.join(', ')}`);
  let maxId = -1;
  let maxToken = '';
  const see = (token: string, id: unknown, where: string) => {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) bad(`${where}: token ${JSON.stringify(token)} has id ${JSON.stringify(id)}; expected an integer ≥ 0`);
    if ((id as number) > maxId) [maxId, maxToken] = [id as number, token];
  };
  const vocab = model.vocab;
  if (type === 'Unigram') {
    if (!Array.isArray(vocab) || vocab.length === 0) bad('model.vocab must be a non-empty list of [token, score] pairs');
    (vocab as unknown[]).forEach((e, i) => see(Array.isArray(e) ? String(e[0]) : String(e), i, 'model.vocab'));
  } else {
    if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) bad('model.vocab must be an object {token: id}');
    const entries = Object.entries(vocab as Record<string, unknown>);
    if (entries.length === 0) bad('model.vocab is empty');
    for (const [t, id] of entries) see(t, id, 'model.vocab');
  }
  const added = json.added_tokens;
  if (added !== undefined && added !== null) {
    if (!Array.isArray(added)) bad('added_tokens must be a list');
    for (const a of added as Record<string, unknown>[]) see(String(a?.content), a?.id, 'added_tokens');
  }
  return { maxId, maxToken };
}

/**
 * Every token id of the tokenizer must index the model's embedding: id < vocab_size.
 *
 * @example checkTokenizerFitsVocab(checkTokenizerJson(json, p), cfg.vocabSize, p, 'models/x/config.json');
 */
export function checkTokenizerFitsVocab(ids: { maxId: number; maxToken: string }, vocabSize: number, source: string, configPath: string): void {
  if (ids.maxId >= vocabSize) {
    throw new CheckpointError(
      'BAD_TOKENIZER',
      `${source}: token ${JSON.stringify(ids.maxToken)} has id ${ids.maxId}, but the model has vocab_size ${vocabSize} (${configPath}); ids must be in [0, ${vocabSize - 1}]`,
      { path: source },
    );
  }
}
