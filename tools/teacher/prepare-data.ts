// Tokenizes the teacher's training text (SOTU 1790–2000) and the held-out sets (SOTU 2001–2021, Brown, Moby Dick)
// into int32 token streams, one document after another, each as <s> text </s>.
// Usage: node --conditions=source --import tsx tools/teacher/prepare-data.ts --tokenizer models/sotu-tiny --out runs/teacher-data
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { loadSplits } from '@mil/corpora';

const { values } = parseArgs({ options: { tokenizer: { type: 'string', default: 'models/sotu-tiny' }, out: { type: 'string', default: 'runs/teacher-data' } } });
const dir = values.tokenizer!;
const tok = new Tokenizer(JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')));
const splits = loadSplits();
await mkdir(values.out!, { recursive: true });
const manifest: Record<string, { documents: number; tokens: number; chars: number }> = {};
const sets: [string, { text: string }[]][] = [['train', splits.train], ['sotu-heldout', splits.heldOut.sotu], ['brown', splits.heldOut.brown], ['moby-dick', splits.heldOut.mobyDick]];
for (const [name, docs] of sets) {
  const ids: number[] = [];
  let chars = 0;
  for (const d of docs) {
    // add_special_tokens puts <s> first; </s> (id 2) closes each document.
    ids.push(...tok.encode(d.text, { add_special_tokens: true }).ids, 2);
    chars += d.text.length;
  }
  const file = join(values.out!, `${name}.i32`);
  await writeFile(`${file}.tmp`, Buffer.from(Int32Array.from(ids).buffer));
  await rename(`${file}.tmp`, file);
  manifest[name] = { documents: docs.length, tokens: ids.length, chars };
  console.log(`${name}: ${docs.length} documents, ${ids.length} tokens, ${(chars / ids.length).toFixed(2)} chars/token`);
}
await writeFile(join(values.out!, 'manifest.json'), JSON.stringify(manifest, null, 2));
