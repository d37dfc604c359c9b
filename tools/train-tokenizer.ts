// Trains the default teacher's byte-fallback BPE tokenizer on SOTU 1790–2000 and writes
// tokenizer.json + tokenizer_config.json, then reports compression on the held-out sets.
//
//   node --import tsx tools/train-tokenizer.ts --vocab 2048 --out models/sotu-tiny
//
// Deterministic: the same options give byte-identical files.
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { ReferenceBpeEncoder, SOTU_TRAIN_YEARS, charsPerToken, llamaTokenizerConfig, loadSplits, saveTokenizer, trainBpe } from '@mil/corpora';

const { values } = parseArgs({
  options: {
    vocab: { type: 'string', default: '2048' },
    out: { type: 'string' },
    'model-max-length': { type: 'string', default: '2048' },
    'min-char-frequency': { type: 'string', default: '10' },
    // How many documents per held-out set are also encoded with @huggingface/tokenizers (slow:
    // ~15 µs per character) to confirm it gives the same ids as the reference encoder.
    'check-docs': { type: 'string', default: '3' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help || !values.out) {
  console.log(
    'usage: node --import tsx tools/train-tokenizer.ts --out DIR [--vocab 2048] [--model-max-length 2048]\n' +
      '       [--min-char-frequency 10] [--check-docs 3]',
  );
  process.exit(values.help ? 0 : 1);
}
const vocabSize = Number(values.vocab);
const modelMaxLength = Number(values['model-max-length']);
const checkDocs = Number(values['check-docs']);

const t0 = performance.now();
const splits = loadSplits();
const t1 = performance.now();
console.log(
  `loaded corpora in ${((t1 - t0) / 1000).toFixed(2)} s: train ${splits.train.length} speeches ` +
    `(SOTU ${SOTU_TRAIN_YEARS.fromYear}–${SOTU_TRAIN_YEARS.toYear})`,
);

const trained = trainBpe(
  splits.train.map((d) => d.text),
  {
    vocabSize,
    minCharFrequency: Number(values['min-char-frequency']),
    onProgress: (p) => process.stdout.write(`\r  merges ${p.merges}, pieces ${p.pieces}/${p.targetPieces}`),
  },
);
const t2 = performance.now();
console.log(`\ntrained in ${((t2 - t1) / 1000).toFixed(2)} s:`, JSON.stringify(trained.stats));

const config = llamaTokenizerConfig({ modelMaxLength });
const { tokenizerPath, configPath } = await saveTokenizer(values.out, trained.tokenizer, config);
console.log(`wrote ${tokenizerPath} and ${configPath}`);

const reference = new ReferenceBpeEncoder(trained.tokenizer);
const runtime = new Tokenizer(trained.tokenizer, config);
const sets: [string, { text: string }[]][] = [
  ['SOTU 2001–2021', splits.heldOut.sotu],
  ['Brown', splits.heldOut.brown],
  ['Moby Dick', splits.heldOut.mobyDick],
  ['(train) SOTU 1790–2000', splits.train],
];
console.log('\n| set | documents | characters | chars/token |');
console.log('|---|---:|---:|---:|');
for (const [name, docs] of sets) {
  const texts = docs.map((d) => d.text);
  for (const text of texts.slice(0, checkDocs)) {
    const a = reference.encode(text).join(',');
    const b = runtime.encode(text).ids.join(',');
    if (a !== b) throw new Error(`${name}: reference encoder and @huggingface/tokenizers disagree`);
  }
  const cpt = charsPerToken(texts, (t) => reference.encode(t, { addBos: false }).length);
  const chars = texts.reduce((n, t) => n + [...t].length, 0);
  console.log(`| ${name} | ${texts.length} | ${chars} | ${cpt.toFixed(3)} |`);
}
