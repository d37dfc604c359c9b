import { describe, it, expect } from 'vitest';
import { mkdtemp, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '@mil/core';
import { isHeldOut, loadShards, packSequences, readExamples, tokenizeExample, tokenizerFolderHash, tokenizeToShards, windowBatch, WindowPacker, type Example, type TokenizedSequence } from '@mil/data';
import { collect, expectCode } from './helpers/expect-code';
import { chatTokenizer, TOKENIZER_DIR } from './helpers/tokenizers';

const FX = new URL('./fixtures/', import.meta.url).pathname;

function randomSeqs(seed: number, n: number): TokenizedSequence[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    const len = 1 + Math.floor(rng() * 40);
    const ids = Array.from({ length: len }, () => 3 + Math.floor(rng() * 1000));
    return { ids, mask: ids.map(() => (rng() < 0.6 ? 1 : 0)) };
  });
}

describe('packing', () => {
  it('windows of seq+1 hold the sequences end to end with their masks; the first token of a window is never a target', () => {
    const seqs = randomSeqs(1, 50);
    const seq = 16;
    const p = packSequences(seqs, { seq, padId: 0 });
    const stream = seqs.flatMap((s) => s.ids);
    const streamMask = seqs.flatMap((s) => s.mask);
    // independent oracle: cut the concatenated stream every seq+1 tokens
    const expected: { tokens: number[]; mask: number[] }[] = [];
    for (let o = 0; o < stream.length; o += seq + 1) {
      const tokens = stream.slice(o, o + seq + 1);
      const mask = streamMask.slice(o, o + seq + 1).map((m, i) => (i === 0 ? 0 : m));
      while (tokens.length < seq + 1) {
        tokens.push(0);
        mask.push(0);
      }
      if (mask.some((m) => m) && !(o + 1 >= stream.length)) expected.push({ tokens, mask });
    }
    expect(p.count).toBe(expected.length);
    for (let w = 0; w < p.count; w++) {
      expect([...p.tokens.subarray(w * (seq + 1), (w + 1) * (seq + 1))]).toEqual(expected[w].tokens);
      expect([...p.mask.subarray(w * (seq + 1), (w + 1) * (seq + 1))]).toEqual(expected[w].mask);
    }
    const b = windowBatch(p, [2, 0]);
    expect(b.batch).toBe(2);
    for (let t = 0; t < seq; t++) {
      expect(b.inputIds[t]).toBe(BigInt(expected[2].tokens[t]));
      expect(b.targets[t]).toBe(expected[2].mask[t + 1] ? BigInt(expected[2].tokens[t + 1]) : -100n);
    }
  });

  it('dropLast drops the partial window; BAD_OPTION for a bad seq', async () => {
    const seqs = randomSeqs(2, 10);
    const total = seqs.reduce((s, x) => s + x.ids.length, 0);
    const p = new WindowPacker({ seq: 7, dropLast: true });
    const ws = seqs.flatMap((s) => p.push(s));
    expect(p.finish()).toEqual([]);
    expect(ws.length).toBeLessThanOrEqual(Math.floor(total / 8));
    await expectCode(() => new WindowPacker({ seq: 0 }), 'BAD_OPTION', /seq/);
  });
});

describe('held-out split', () => {
  it('depends on content only, holds out about the fraction asked', () => {
    const exs: Example[] = Array.from({ length: 4000 }, (_, i) => ({ kind: 'text', text: `document ${i} ${i * 7919}`, source: `a.txt` }));
    const held = exs.filter((e) => isHeldOut(e, 0.1)).length;
    expect(held).toBeGreaterThan(320);
    expect(held).toBeLessThan(480);
    const moved = exs.map((e) => ({ ...e, source: 'elsewhere.jsonl:9' }));
    expect(moved.map((e) => isHeldOut(e, 0.1))).toEqual(exs.map((e) => isHeldOut(e, 0.1)));
    expect(exs.filter((e) => isHeldOut(e, 0)).length).toBe(0);
    expect(exs.filter((e) => isHeldOut(e, 1)).length).toBe(4000);
    expect(() => isHeldOut(exs[0], 2)).toThrow(/heldOutFraction/);
  });
});

describe('tokenised-shard cache', () => {
  it('writes safetensors shards once, reads them back equal to packing in memory; a changed file is a new entry', async () => {
    const tok = chatTokenizer();
    const dir = await mkdtemp(join(tmpdir(), 'mil-data-test-'));
    try {
      await cp(join(FX, 'text.jsonl'), join(dir, 'text.jsonl'));
      await cp(join(FX, 'chat.jsonl'), join(dir, 'chat.jsonl'));
      await cp(join(FX, 'chat-zstd.parquet'), join(dir, 'chat-zstd.parquet'));
      const data = [join(dir, '*.jsonl'), join(dir, '*.parquet')];
      const tokenizerKey = await tokenizerFolderHash(TOKENIZER_DIR);
      const phases = new Set<string>();
      const opts = { data, tokenizer: tok, tokenizerKey, cacheDir: join(dir, 'cache'), seq: 24, heldOutFraction: 0.2, windowsPerShard: 3, onProgress: (p: { phase: string }) => phases.add(p.phase) };
      const first = await tokenizeToShards(opts);
      expect(first.fromCache).toBe(false);
      expect([...phases]).toEqual(['hashing', 'tokenizing']);
      expect(first.train.files.length).toBe(Math.ceil(first.train.windows / 3));
      expect(first.examples.train + first.examples.heldOut).toBe(3 + 2 + 12);
      // oracle: the same examples, split and packed in memory
      const all = await collect(readExamples(data));
      const want = (held: boolean) => packSequences(all.filter((e) => isHeldOut(e, 0.2) === held).map((e) => tokenizeExample(tok, e)), { seq: 24 });
      for (const [split, held] of [['train', false], ['heldOut', true]] as const) {
        const got = await loadShards(first, split);
        const w = want(held);
        expect(got.count).toBe(w.count);
        expect(got.tokens).toEqual(w.tokens);
        expect(got.mask).toEqual(w.mask);
      }
      expect(first.examples.heldOut).toBe(all.filter((e) => isHeldOut(e, 0.2)).length);

      phases.clear();
      const again = await tokenizeToShards(opts);
      expect(again.fromCache).toBe(true);
      expect([...phases]).toEqual(['hashing', 'cached']);
      expect(again.key).toBe(first.key);

      await writeFile(join(dir, 'text.jsonl'), '{"text": "one more line"}\n', { flag: 'a' });
      const changed = await tokenizeToShards(opts);
      expect(changed.fromCache).toBe(false);
      expect(changed.key).not.toBe(first.key);
      const otherSeq = await tokenizeToShards({ ...opts, seq: 32 });
      expect(otherSeq.key).not.toBe(changed.key);

      await writeFile(join(dir, 'bad.jsonl'), '{"text": "ok"}\n{"text": \n');
      await expectCode(tokenizeToShards({ ...opts, data: join(dir, 'bad.jsonl') }), 'BAD_JSON', /bad\.jsonl:2/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
