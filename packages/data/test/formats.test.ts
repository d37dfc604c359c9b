import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { MilError } from '@mil/core';
import { expandDataPaths, readExamples, readJsonl, readParquet, type ChatExample, type PreferenceExample, type TextExample } from '@mil/data';
import { collect, expectCode } from './helpers/expect-code';

const FX = new URL('./fixtures/', import.meta.url).pathname;
const fx = (p: string) => join(FX, p);

describe('plain text files, folders and globs', () => {
  it('a folder gives every known file below it, sorted; a glob the matching ones', async () => {
    expect(await expandDataPaths(fx('text'))).toEqual([fx('text/a.txt'), fx('text/nested/b.md')]);
    expect(await expandDataPaths(`${FX}text/**/*.md`)).toEqual([fx('text/nested/b.md')]);
    expect(await expandDataPaths(`${FX}text/*.{txt,md}`)).toEqual([fx('text/a.txt')]);
    expect(await expandDataPaths(`${FX}chat-*.parquet`)).toEqual(['gzip', 'snappy', 'zstd'].map((c) => fx(`chat-${c}.parquet`)));
    const ex = await collect(readExamples(fx('text')));
    expect(ex.map((e) => e.kind)).toEqual(['text', 'text']);
    expect((ex[1] as TextExample).text).toContain('The census counted every household');
    expect(ex[1].source).toBe(fx('text/nested/b.md'));
  });

  it('NOT_FOUND for a missing file or an empty glob, UNKNOWN_FORMAT for an unknown extension', async () => {
    await expectCode(expandDataPaths(fx('nope.jsonl')), 'NOT_FOUND', /nope\.jsonl/);
    await expectCode(expandDataPaths(`${FX}*.csv`), 'NOT_FOUND', /\*\.csv/);
    await expectCode(expandDataPaths(fx('helpers-not-data.csv')), 'NOT_FOUND');
    await expectCode(expandDataPaths(new URL('./formats.test.ts', import.meta.url).pathname), 'UNKNOWN_FORMAT', /formats\.test\.ts/);
  });
});

describe('JSONL', () => {
  it('text records, line by line, skipping blank lines, with file:line sources', async () => {
    const ex = (await collect(readJsonl(fx('text.jsonl')))) as TextExample[];
    expect(ex.map((e) => e.source)).toEqual([1, 2, 4].map((l) => `${fx('text.jsonl')}:${l}`));
    expect(ex[2].text).toBe('The mint struck new coins of silver and copper; café, naïve, 東京.');
  });

  it('chat records keep every message', async () => {
    const ex = (await collect(readExamples(fx('chat.jsonl')))) as ChatExample[];
    expect(ex.map((e) => e.kind)).toEqual(['chat', 'chat']);
    expect(ex[1].messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(ex[1].messages[3].content).toBe('Forty metres.');
  });

  it("preference records in TRL's three shapes: strings, message lists, implicit prompt", async () => {
    const ex = (await collect(readExamples(fx('preference.jsonl')))) as PreferenceExample[];
    expect(ex.map((e) => e.kind)).toEqual(['preference', 'preference', 'preference']);
    expect(ex[0]).toMatchObject({ prompt: 'The navy in one line:', chosen: ' It guarded the coasts.', rejected: ' I do not know.' });
    expect(ex[1].prompt).toEqual([{ role: 'user', content: 'Describe the post office.' }]);
    expect(ex[2].prompt).toEqual([{ role: 'user', content: 'Describe the courts.' }]);
    expect(ex[2].chosen).toEqual([{ role: 'assistant', content: 'They heard cases every week.' }]);
    expect(ex[2].rejected).toEqual([{ role: 'assistant', content: 'Courts.' }]);
  });

  it('a bad line is BAD_JSON naming file:line, after the good lines before it', async () => {
    const seen: string[] = [];
    const err = await expectCode(
      (async () => {
        for await (const e of readExamples(fx('bad-json.jsonl'))) seen.push((e as TextExample).text);
      })(),
      'BAD_JSON',
      /bad-json\.jsonl:3: not valid JSON/,
    );
    expect(err).toBeInstanceOf(MilError);
    expect(seen).toEqual(['fine', 'also fine']);
    await expectCode(collect(readExamples(fx('bad-record.jsonl'))), 'BAD_RECORD', /bad-record\.jsonl:2: no "text".*keys: title/);
  });
});

describe('Parquet written by parquet-wasm (tools/make-parquet-fixtures.ts)', () => {
  it('snappy, zstd and gzip files give the same 12 rows, text and messages, across 3 row groups', async () => {
    const all = [];
    for (const c of ['snappy', 'zstd', 'gzip']) {
      const progress: [number, number][] = [];
      const rows = await collect(readParquet(fx(`chat-${c}.parquet`), (d, t) => progress.push([d, t])));
      expect(progress).toEqual([[5, 12], [10, 12], [12, 12]]);
      all.push(rows.map(({ source: _, ...r }) => r));
      expect(rows[7].source).toBe(`${fx(`chat-${c}.parquet`)}#7`);
    }
    expect(all[1]).toEqual(all[0]);
    expect(all[2]).toEqual(all[0]);
    // only the chat shape is taken when a row has both `messages` and `text`
    const rows = all[0] as Omit<ChatExample, 'source'>[];
    expect(rows.length).toBe(12);
    expect(rows.every((r) => r.kind === 'chat')).toBe(true);
    expect(rows[6].messages).toEqual([
      { role: 'system', content: 'You answer in one sentence.' },
      { role: 'user', content: 'What happened to a canal?' },
      { role: 'assistant', content: 'In 1842, a canal was expanded.' },
    ]);
    expect(rows[11].messages.at(-1)).toEqual({ role: 'assistant', content: 'It stayed open for 13 decades.' });
  });

  it('preference pairs with message-list columns', async () => {
    const rows = (await collect(readExamples(fx('preference-snappy.parquet')))) as PreferenceExample[];
    expect(rows.length).toBe(6);
    expect(rows[2]).toMatchObject({ kind: 'preference', prompt: [{ role: 'user', content: 'Describe a railway in one line.' }], chosen: [{ role: 'assistant', content: 'A railway served the public well for 5 years.' }], rejected: [{ role: 'assistant', content: 'I do not know about a railway.' }] });
  });

  it('BAD_PARQUET for a file that is not Parquet', async () => {
    await expectCode(collect(readParquet(fx('chat.jsonl'))), 'BAD_PARQUET', /chat\.jsonl/);
  });
});
