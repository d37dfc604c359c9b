// Writes the small Parquet files @mil/data's tests read, with a standard writer: parquet-wasm (the Rust
// parquet/arrow crates compiled to wasm), from tables built with apache-arrow — the same layout Hugging Face
// datasets ship (a `text` string column, a `messages` list<struct<role, content>> column, TRL preference columns).
//
//   node --import tsx tools/make-parquet-fixtures.ts [--out packages/data/test/fixtures]
//
// Deterministic: the same versions (parquet-wasm 0.8.0, apache-arrow 21.2.0, pinned in packages/data) give the
// same bytes. Writes chat-snappy.parquet, chat-zstd.parquet, chat-gzip.parquet and preference-snappy.parquet.
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tableToIPC, vectorFromArray, Field, List, Struct, Utf8, Table as ArrowTable } from 'apache-arrow';
import { Compression, Table, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'packages/data/test/fixtures' } } });
const out = values.out!;
mkdirSync(out, { recursive: true });

const messageType = new List(new Field('element', new Struct([new Field('role', new Utf8(), true), new Field('content', new Utf8(), true)]), true));
type Msg = { role: string; content: string };

// Twelve rows: enough for two row groups of 5 plus a short one, so the reader's row-group streaming is exercised.
const topics = ['the harbour', 'the census', 'a railway', 'the tariff', 'a treaty', 'the mint', 'a canal', 'the post office', 'a lighthouse', 'the navy', 'a school', 'the courts'];
const texts: string[] = [];
const messages: Msg[][] = [];
for (let i = 0; i < topics.length; i++) {
  const t = topics[i];
  texts.push(`Row ${i}: a report on ${t}, with figures for year ${1800 + 7 * i}. Unicode too: café, naïve, 東京, 🚂.`);
  const m: Msg[] = [];
  if (i % 3 === 0) m.push({ role: 'system', content: 'You answer in one sentence.' });
  m.push({ role: 'user', content: `What happened to ${t}?` });
  m.push({ role: 'assistant', content: `In ${1800 + 7 * i}, ${t} was expanded.` });
  if (i % 2 === 1) {
    m.push({ role: 'user', content: 'And after that?' });
    m.push({ role: 'assistant', content: `It stayed open for ${i + 2} decades.` });
  }
  messages.push(m);
}

function write(name: string, table: ArrowTable, compression: Compression): void {
  const wasmTable = Table.fromIPCStream(tableToIPC(table, 'stream'));
  const props = new WriterPropertiesBuilder().setCompression(compression).setMaxRowGroupSize(5).setCreatedBy('parquet-wasm 0.8.0 (tools/make-parquet-fixtures.ts)').build();
  const bytes = writeParquet(wasmTable, props);
  const path = join(out, name);
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
  console.log(`${path}: ${bytes.length} bytes, ${table.numRows} rows`);
}

const chat = new ArrowTable({ text: vectorFromArray(texts, new Utf8()), messages: vectorFromArray(messages, messageType) });
write('chat-snappy.parquet', chat, Compression.SNAPPY);
write('chat-zstd.parquet', chat, Compression.ZSTD);
write('chat-gzip.parquet', chat, Compression.GZIP);

const prompts = topics.slice(0, 6).map((t) => `Describe ${t} in one line.`);
const chosen = topics.slice(0, 6).map((t, i) => [{ role: 'assistant', content: `${t[0].toUpperCase()}${t.slice(1)} served the public well for ${i + 3} years.` }]);
const rejected = topics.slice(0, 6).map((t) => [{ role: 'assistant', content: `I do not know about ${t}.` }]);
const pref = new ArrowTable({ prompt: vectorFromArray(prompts, new Utf8()), chosen: vectorFromArray(chosen, messageType), rejected: vectorFromArray(rejected, messageType) });
write('preference-snappy.parquet', pref, Compression.SNAPPY);
