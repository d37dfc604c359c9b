// `mil export --format gguf` loads unchanged in llama.cpp (node-llama-cpp 3.21.1, its prebuilt CPU binary): the same
// tokenization as our tokenizer.json, the same greedy tokens as our session for f32, and next-token distributions
// within a stated tolerance for f16 and q8_0 — for the teacher (`llama`) and a Mamba-2 student (`granitehybrid`).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getLlama, readGgufFileInfo, type Llama, type Token } from 'node-llama-cpp';
import { HybridSession, LlamaSession, generate, loadLlama, saveHybrid, type LoadedLlama } from '@mil/models';
import { initStudentFromTeacher, makeHybridConfig } from '@mil/weight-transfer';
import { exportCommand } from '../src/commands/export';

const root = resolve(__dirname, '../../..');
const teacherDir = join(root, 'models/sotu-tiny');
const PROMPTS = ['The state of the Union is', 'We must work together to', 'My fellow citizens, the economy', 'In 1862 the Congress'];
const NEW = 16;
/** Max |p_llama.cpp − p_ours| over the whole next-token distribution, per dtype. */
const PROB_TOL = { f32: 5e-4, f16: 2e-3, q8_0: 1.5e-2 } as const;
/** The untrained Mamba-2 student (attention-initialised) is more sensitive to q8_0 than the teacher (measured 0.042). */
const STUDENT_PROB_TOL = { f32: 5e-4, q8_0: 6e-2 } as const;

let teacher: LoadedLlama;
let llama: Llama;
let out: string;
type Reference = { ids: number[]; tokens: number[]; probs: Float64Array }[];
const ours: Reference = [];

function softmax(logits: Float32Array): Float64Array {
  let mx = -Infinity;
  for (const v of logits) mx = Math.max(mx, v);
  const p = Float64Array.from(logits, (v) => Math.exp(v - mx));
  const z = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / z);
}

beforeAll(async () => {
  teacher = await loadLlama(teacherDir);
  out = mkdtempSync(join(tmpdir(), 'mil-gguf-'));
  for (const dtype of ['f32', 'f16', 'q8_0']) await exportCommand(['--model', teacherDir, '--out', join(out, `sotu-tiny.${dtype}.gguf`), '--format', 'gguf', '--dtype', dtype]);
  const session = await LlamaSession.create(teacher.config, teacher.weights, { threads: 1 });
  ours.push(...(await reference(session)));
  await session.release();
  // build: 'never' — the prebuilt @node-llama-cpp/linux-x64 binary, nothing downloaded or compiled.
  llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' as never });
});

/** Our greedy tokens and first next-token distribution per prompt. */
async function reference(session: LlamaSession | HybridSession): Promise<Reference> {
  const out: Reference = [];
  for (const p of PROMPTS) {
    const ids = teacher.tokenizer!.encode(p);
    session.reset();
    const probs = softmax((await session.forward(ids)).slice(-teacher.config.vocabSize));
    session.reset();
    const tokens: number[] = [];
    for await (const s of generate(session, ids, { maxNewTokens: NEW, doSample: false, eosTokenId: teacher.tokenizer!.eosId ?? undefined })) tokens.push(s.token);
    out.push({ ids, tokens, probs });
  }
  return out;
}

/** Runs each prompt in llama.cpp: checks the first distribution against ours; returns the greedy-token agreement. */
async function compareInLlamaCpp(path: string, ref: Reference, tol: number, sameTokens: boolean): Promise<number> {
  const model = await llama.loadModel({ modelPath: path });
  const ctx = await model.createContext({ contextSize: 128, threads: 1, sequences: 1 });
  let agree = 0;
  let total = 0;
  for (const r of ref) {
    const seq = ctx.getSequence();
    const tokens: number[] = [];
    let first = true;
    for await (const o of seq.evaluateWithMetadata(r.ids as Token[], { probabilities: true }, { temperature: 0 })) {
      if (first) {
        let maxDiff = 0;
        for (let t = 0; t < r.probs.length; t++) maxDiff = Math.max(maxDiff, Math.abs((o.probabilities.get(t as Token) ?? 0) - r.probs[t]));
        expect(maxDiff).toBeLessThan(tol);
        first = false;
      }
      tokens.push(o.token);
      if (tokens.length >= r.tokens.length) break;
    }
    if (sameTokens) expect(tokens).toEqual(r.tokens);
    for (let i = 0; i < r.tokens.length; i++) total++, (agree += tokens[i] === r.tokens[i] ? 1 : 0);
    seq.dispose();
  }
  await ctx.dispose();
  await model.dispose();
  return agree / total;
}

afterAll(async () => {
  await llama?.dispose();
});

describe('llama.cpp interop (GGUF)', () => {
  it('writes the llama architecture and the tokenizer as GGUF metadata (read by node-llama-cpp)', async () => {
    const info = await readGgufFileInfo(join(out, 'sotu-tiny.q8_0.gguf'));
    const md = info.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(md.general.architecture).toBe('llama');
    expect(md.llama.block_count).toBe(teacher.config.numHiddenLayers);
    const tok = md.tokenizer.ggml as Record<string, unknown>;
    expect(tok.model).toBe('llama');
    expect((tok.tokens as string[]).length).toBe(teacher.config.vocabSize);
    expect(tok.bos_token_id).toBe(teacher.tokenizer!.bosId);
    expect(tok.eos_token_id).toBe(teacher.tokenizer!.eosId);
    const names = info.tensorInfo!.map((t) => t.name);
    expect(names).toContain('blk.7.ffn_down.weight');
    expect(names).not.toContain('output.weight'); // tied embeddings
  });

  it('tokenizes as our tokenizer.json does, on prompts and a few hundred lines of varied text', async () => {
    const model = await llama.loadModel({ modelPath: join(out, 'sotu-tiny.f32.gguf') });
    const lines = [
      ...readFileSync(join(root, 'README.md'), 'utf8').split('\n'),
      ...readFileSync(join(teacherDir, 'README.md'), 'utf8').split('\n'),
      ...PROMPTS,
      'émigré naïve café — 東京 🙂 ½',
      '  two leading spaces,   three inside, trailing  ',
      'tabs\tand\nnewlines\n\n',
      '$1,234,567.89 in 1999; 3.14159',
    ].filter((l) => l.length > 0 && !l.includes('<s>') && !l.includes('</s>') && !l.includes('<unk>'));
    expect(lines.length).toBeGreaterThan(100);
    let same = 0;
    const diffs: string[] = [];
    for (const l of lines) {
      const ref = teacher.tokenizer!.encode(l, { addSpecialTokens: false });
      const got = Array.from(model.tokenize(l));
      if (JSON.stringify(ref) === JSON.stringify(got)) same++;
      else diffs.push(l);
    }
    expect(diffs).toEqual([]);
    expect(same).toBe(lines.length);
    await model.dispose();
  });

  for (const dtype of ['f32', 'f16', 'q8_0'] as const) {
    it(`${dtype}: next-token distribution within ${PROB_TOL[dtype]}${dtype === 'f32' ? ' and the same greedy tokens' : ''}`, async () => {
      const agree = await compareInLlamaCpp(join(out, `sotu-tiny.${dtype}.gguf`), ours, PROB_TOL[dtype], dtype === 'f32');
      // f16 / q8_0: greedy paths may part after a near-tie; most tokens agree.
      expect(agree).toBeGreaterThan(dtype === 'f32' ? 0.999 : 0.3);
    });
  }

  it('Mamba-2 student as granitehybrid: our greedy tokens (f32), distribution within tolerance (q8_0); Mamba-1 refused', async () => {
    const hybrid = makeHybridConfig(teacher.config, 'mamba2', [1, 3, 5, 7]);
    const weights = initStudentFromTeacher(teacher.weights, teacher.config, hybrid, { seed: 5 });
    const dir = join(out, 'student');
    await saveHybrid(dir, { teacher: teacher.config, hybrid, weights }, { tokenizerFrom: teacherDir, fsync: false });
    const session = await HybridSession.create(teacher.config, hybrid, weights, { threads: 1 });
    const ref = await reference(session);
    await session.release();
    for (const dtype of ['f32', 'q8_0'] as const) {
      const path = join(out, `student.${dtype}.gguf`);
      await exportCommand(['--model', dir, '--out', path, '--format', 'gguf', '--dtype', dtype]);
      const info = await readGgufFileInfo(path);
      expect((info.metadata as unknown as Record<string, Record<string, unknown>>).general.architecture).toBe('granitehybrid');
      expect(await compareInLlamaCpp(path, ref, STUDENT_PROB_TOL[dtype], dtype === 'f32')).toBeGreaterThan(dtype === 'f32' ? 0.999 : 0.3);
    }
    const m1 = makeHybridConfig(teacher.config, 'mamba1', [1, 3, 5, 7]);
    const dir1 = join(out, 'student-m1');
    await saveHybrid(dir1, { teacher: teacher.config, hybrid: m1, weights: initStudentFromTeacher(teacher.weights, teacher.config, m1, { seed: 5 }) }, { tokenizerFrom: teacherDir, fsync: false });
    await expect(exportCommand(['--model', dir1, '--out', join(out, 'm1.gguf'), '--format', 'gguf'])).rejects.toThrow(/Mamba-1 students have no llama.cpp architecture/);
  });
});
