// `mil export --format transformers.js` loads unchanged in the real @huggingface/transformers (pinned 4.3.1):
// the teacher (fp32 and fp16) and distilled-style hybrids (Mamba-2 and Mamba-1, as `granitemoehybrid`).
// transformers.js runs in a child process: it brings onnxruntime-node 1.30.0, which cannot share a process with ours.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HybridSession, LlamaSession, generate, loadLlama, saveHybrid, type LoadedLlama } from '@mil/models';
import { initStudentFromTeacher, makeHybridConfig } from '@mil/weight-transfer';
import { exportCommand } from '../src/commands/export';

const root = resolve(__dirname, '../../..');
const teacherDir = join(root, 'models/sotu-tiny');
const PROMPTS = ['The state of the Union is', 'We must work together to', 'My fellow citizens, the economy'];
const NEW = 12;

interface TjsResult { prompts: { ids: number[]; tokens: number[]; lastLogits: number[] }[] }

function runTransformersJs(dir: string, dtype: 'fp32' | 'fp16'): TjsResult {
  const req = { root: resolve(dir, '..'), name: dir.split('/').pop(), dtype, prompts: PROMPTS, maxNewTokens: NEW, threads: 1 };
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'runtimes/transformers-js-run.ts'), JSON.stringify(req)], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as TjsResult;
}

async function ours(session: Parameters<typeof generate>[0], t: LoadedLlama) {
  const res = [];
  for (const p of PROMPTS) {
    const ids = t.tokenizer!.encode(p);
    const tokens: number[] = [];
    for await (const s of generate(session, ids, { maxNewTokens: NEW, doSample: false, eosTokenId: t.tokenizer!.eosId ?? undefined })) tokens.push(s.token);
    res.push({ ids, tokens });
  }
  return res;
}

let teacher: LoadedLlama;
beforeAll(async () => {
  teacher = await loadLlama(teacherDir);
});

describe('transformers.js interop', () => {
  it('teacher: same tokenization and greedy tokens (fp32); fp16 logits within 0.05 of fp32', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mil-tjs-')), 'sotu-tiny');
    await exportCommand(['--model', teacherDir, '--out', out, '--format', 'transformers.js']);
    for (const f of ['onnx/model.onnx', 'onnx/model_fp16.onnx', 'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const io = readFileSync(join(out, 'onnx/model.onnx'));
    expect(io.includes(Buffer.from('batch_size'))).toBe(true);
    const session = await LlamaSession.create(teacher.config, teacher.weights, { threads: 1 });
    const ref = await ours(session, teacher);
    const refLogits = [];
    for (const r of ref) {
      session.reset();
      refLogits.push(Array.from((await session.forward(r.ids)).slice(-teacher.config.vocabSize)));
    }
    await session.release();
    const f32 = runTransformersJs(out, 'fp32');
    for (let i = 0; i < PROMPTS.length; i++) {
      expect(f32.prompts[i].ids).toEqual(ref[i].ids);
      expect(f32.prompts[i].tokens).toEqual(ref[i].tokens);
      expect(maxAbsDiff(f32.prompts[i].lastLogits, refLogits[i])).toBeLessThan(1e-3);
    }
    const f16 = runTransformersJs(out, 'fp16');
    for (let i = 0; i < PROMPTS.length; i++) {
      expect(maxAbsDiff(f16.prompts[i].lastLogits, refLogits[i])).toBeLessThan(0.05);
      expect(argmax(f16.prompts[i].lastLogits)).toBe(argmax(refLogits[i]));
    }
  });

  for (const variant of ['mamba2', 'mamba1'] as const) {
    it(`${variant} hybrid (attention at odd layers) runs as granitemoehybrid with our greedy tokens`, async () => {
      const hybrid = makeHybridConfig(teacher.config, variant, [1, 3, 5, 7]);
      const weights = initStudentFromTeacher(teacher.weights, teacher.config, hybrid, { seed: 3 });
      const base = mkdtempSync(join(tmpdir(), 'mil-tjs-h-'));
      await saveHybrid(join(base, 'student'), { teacher: teacher.config, hybrid, weights }, { tokenizerFrom: teacherDir, fsync: false });
      const out = join(base, `student-${variant}`);
      await exportCommand(['--model', join(base, 'student'), '--out', out, '--format', 'transformers.js']);
      const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      expect(cfg.model_type).toBe('granitemoehybrid');
      expect(cfg.layer_types).toEqual(['mamba', 'attention', 'mamba', 'attention', 'mamba', 'attention', 'mamba', 'attention']);
      const session = await HybridSession.create(teacher.config, hybrid, weights, { threads: 1 });
      const ref = await ours(session, teacher);
      await session.release();
      const got = runTransformersJs(out, 'fp32');
      for (let i = 0; i < PROMPTS.length; i++) expect(got.prompts[i].tokens).toEqual(ref[i].tokens);
    });
  }
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function argmax(a: ArrayLike<number>): number {
  let k = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[k]) k = i;
  return k;
}
