// A seeded corpus of corrupt model folders (structure, duplicate keys, NaN/Inf weights, absurd config sizes,
// tokenizers out of range, FIFOs, symlink loops and devices) loaded through loadLlama / loadHybrid in a child process
// with a heap cap. Every case must end in a coded error that names a file of its folder; no case may hang or blow up
// (generous caps: they detect a hang or a runaway allocation, not speed). The figures are printed for the record.
import { parseLlamaConfig } from '@mil/checkpoint';
import { describe, it, expect } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRng, type Rng } from '@mil/core';
import { hybridConfigForTeacher, randomHybridWeights, saveHybrid } from '@mil/models';
import { TINY_TEACHER_CONFIG, writeTinyTeacher } from './helpers/tiny-teacher';

const CASES = Number(process.env.MIL_CORPUS_CASES ?? 2400);
const CASE_CAP_MS = 10_000; // a hang detector; the measured maximum is printed
const RSS_CAP = 1 << 30;

type Mutation = { kind: string; file: string; apply: (dir: string) => void };

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];

function headerOf(bytes: Buffer): { n: number; text: string } {
  const n = Number(bytes.readBigUInt64LE(0));
  return { n, text: bytes.subarray(8, 8 + n).toString('utf8') };
}
function withHeader(bytes: Buffer, text: string): Buffer {
  const hb = Buffer.from(text.padEnd(Math.ceil(Buffer.byteLength(text) / 8) * 8, ' '));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length));
  return Buffer.concat([len, hb, bytes.subarray(8 + headerOf(bytes).n)]);
}

function mutations(base: string, loader: 'llama' | 'hybrid', rng: Rng): Mutation {
  const st = readFileSync(join(base, 'model.safetensors'));
  const { n, text } = headerOf(st);
  const header = JSON.parse(text) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const cfg = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8'));
  const tok = JSON.parse(readFileSync(join(base, 'tokenizer.json'), 'utf8'));
  const write = (file: string, data: string | Buffer) => (dir: string) => {
    rmSync(join(dir, file), { force: true });
    writeFileSync(join(dir, file), data);
  };
  const files = ['config.json', 'model.safetensors', 'tokenizer.json', ...(loader === 'hybrid' ? ['mamba_config.json'] : [])];
  const kinds: (() => Mutation)[] = [
    // structure
    () => { const f = pick(rng, ['config.json', 'model.safetensors', ...(loader === 'hybrid' ? ['mamba_config.json'] : [])]); return { kind: 'missing-file', file: loader === 'hybrid' && f === 'mamba_config.json' ? 'mamba_config.json' : f === 'config.json' ? 'config.json' : 'model.safetensors', apply: (d) => rmSync(join(d, f)) }; },
    () => { const at = Math.floor(rng() * st.length); return { kind: 'truncated-weights', file: 'model.safetensors', apply: write('model.safetensors', st.subarray(0, at)) }; },
    () => {
      const structural = [...text].map((c, i) => ('{}[]:,"0123456789'.includes(c) ? i : -1)).filter((i) => i >= 0);
      const i = pick(rng, structural);
      const repl = pick(rng, [...'{}[]:,"0123456789x'].filter((c) => c !== text[i]));
      return { kind: 'header-byte', file: 'model.safetensors', apply: write('model.safetensors', Buffer.concat([st.subarray(0, 8), Buffer.from(text.slice(0, i) + repl + text.slice(i + 1)), st.subarray(8 + n)])) };
    },
    () => { const b = Buffer.from(st); b.writeBigUInt64LE(BigInt(pick(rng, [0, 1, 7, n + 8, st.length, 2 ** 40, 2 ** 62]))); return { kind: 'header-length', file: 'model.safetensors', apply: write('model.safetensors', b) }; },
    () => { const t = readFileSync(join(base, 'config.json'), 'utf8'); return { kind: 'config-not-json', file: 'config.json', apply: write('config.json', t.slice(0, Math.floor(rng() * (t.length - 1)))) }; },
    () => ({ kind: 'config-not-object', file: 'config.json', apply: write('config.json', pick(rng, ['[]', '42', '"llama"', 'null', ''])) }),
    () => { const f = pick(rng, files); return { kind: 'folder-in-place', file: f, apply: (d) => { rmSync(join(d, f)); mkdirSync(join(d, f)); } }; },
    // duplicate keys
    () => { const a = pick(rng, names); return { kind: 'duplicate-tensor', file: 'model.safetensors', apply: write('model.safetensors', withHeader(st, text.replace('{', `{${JSON.stringify(a)}:${JSON.stringify(header[a])},`))) }; },
    () => {
      const a = pick(rng, names);
      const field = pick(rng, ['dtype', 'shape', 'data_offsets']);
      const dupe = JSON.stringify({ [field]: (header[a] as Record<string, unknown>)[field] }).slice(1, -1);
      return { kind: 'duplicate-field', file: 'model.safetensors', apply: write('model.safetensors', withHeader(st, text.replace(`${JSON.stringify(a)}:{`, `${JSON.stringify(a)}:{${dupe},`))) };
    },
    // NaN / Inf
    () => {
      const a = pick(rng, names.filter((x) => header[x].dtype === 'F32'));
      const [b0, b1] = header[a].data_offsets;
      const at = 8 + n + b0 + 4 * Math.floor((rng() * (b1 - b0)) / 4);
      const buf = Buffer.from(st);
      buf.writeFloatLE(pick(rng, [NaN, Infinity, -Infinity]), at);
      return { kind: 'non-finite', file: 'model.safetensors', apply: write('model.safetensors', buf) };
    },
    // absurd config sizes
    () => {
      const field = pick(rng, ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim', 'max_position_embeddings']);
      const v = pick(rng, [0, -1, 1e9, 1e12, 2 ** 53, 2.5, '32', true, [], 63, 1e300]);
      return { kind: `config-${field}`, file: 'config.json', apply: write('config.json', JSON.stringify({ ...cfg, [field]: v })) };
    },
    () => ({ kind: 'config-head-dim-odd', file: 'config.json', apply: write('config.json', JSON.stringify({ ...cfg, head_dim: pick(rng, [15, 17, 63]) })) }),
    () => ({ kind: 'config-token-id', file: 'config.json', apply: write('config.json', JSON.stringify({ ...cfg, [pick(rng, ['eos_token_id', 'pad_token_id'])]: pick(rng, [2048, 1e6, -1]) })) }),
    () => ({ kind: 'config-model-type', file: 'config.json', apply: write('config.json', JSON.stringify({ ...cfg, model_type: pick(rng, ['gpt2', 'mamba', '', 7]) })) }),
    // tokenizers out of range
    () => ({ kind: 'tokenizer-id-too-large', file: 'tokenizer.json', apply: write('tokenizer.json', JSON.stringify({ ...tok, added_tokens: [...tok.added_tokens, { ...tok.added_tokens[0], id: 2048 + Math.floor(rng() * 1e6), content: '<big>' }] })) }),
    () => ({ kind: 'tokenizer-negative-id', file: 'tokenizer.json', apply: write('tokenizer.json', JSON.stringify({ ...tok, model: { ...tok.model, vocab: { ...tok.model.vocab, [`neg${Math.floor(rng() * 99)}`]: -1 - Math.floor(rng() * 9) } } })) }),
    () => ({ kind: 'tokenizer-empty-vocab', file: 'tokenizer.json', apply: write('tokenizer.json', JSON.stringify({ ...tok, model: { ...tok.model, vocab: {} } })) }),
    () => ({ kind: 'tokenizer-model-type', file: 'tokenizer.json', apply: write('tokenizer.json', JSON.stringify({ ...tok, model: { ...tok.model, type: pick(rng, ['BPE2', 'Nope', '', 3]) } })) }),
    () => { const t = JSON.stringify(tok); return { kind: 'tokenizer-not-json', file: 'tokenizer.json', apply: write('tokenizer.json', t.slice(0, Math.floor(rng() * (t.length - 1)))) }; },
    // FIFOs, symlink loops, devices, huge files
    () => { const f = pick(rng, files); return { kind: 'fifo', file: f, apply: (d) => { rmSync(join(d, f)); execFileSync('mkfifo', [join(d, f)]); } }; },
    () => { const f = pick(rng, files); return { kind: 'symlink-loop', file: f, apply: (d) => { rmSync(join(d, f)); symlinkSync(join(d, `${f}.b`), join(d, f)); symlinkSync(join(d, f), join(d, `${f}.b`)); } }; },
    () => { const f = pick(rng, files); return { kind: 'device', file: f, apply: (d) => { rmSync(join(d, f)); symlinkSync(pick(rng, ['/dev/urandom', '/dev/zero', '/dev/null']), join(d, f)); } }; },
    () => { const f = pick(rng, ['config.json', 'tokenizer.json', ...(loader === 'hybrid' ? ['mamba_config.json'] : [])]); return { kind: 'huge-file', file: f, apply: (d) => { rmSync(join(d, f)); writeFileSync(join(d, f), '{'); truncateSync(join(d, f), 2 ** 30); } }; },
  ];
  if (loader === 'hybrid') {
    const m = JSON.parse(readFileSync(join(base, 'mamba_config.json'), 'utf8'));
    kinds.push(
      () => ({ kind: 'hybrid-n_layer', file: 'mamba_config.json', apply: write('mamba_config.json', JSON.stringify({ ...m, n_layer: pick(rng, [1e9, 1e12, 0, -4, 5, 'x']) })) }),
      () => ({ kind: 'hybrid-ssm', file: 'mamba_config.json', apply: write('mamba_config.json', JSON.stringify({ ...m, ssm_cfg: { ...m.ssm_cfg, [pick(rng, ['d_state', 'd_conv', 'expand', 'ngroups'])]: pick(rng, [0, 1e9, -1, 3.5]) } })) }),
      () => ({ kind: 'hybrid-attn_layers', file: 'mamba_config.json', apply: write('mamba_config.json', JSON.stringify({ ...m, attn_layers: pick(rng, [[9], [-1], [1, 1], 'all', [0.5]]) })) }),
      () => ({ kind: 'hybrid-d_model', file: 'mamba_config.json', apply: write('mamba_config.json', JSON.stringify({ ...m, [pick(rng, ['d_model', 'd_inner', 'd_xb', 'vocab_size'])]: pick(rng, [64, 1e9, 0]) })) }),
    );
  }
  return pick(rng, kinds)();
}

function linkFolder(from: string, to: string): void {
  mkdirSync(to);
  for (const f of readdirSync(from)) linkSync(join(from, f), join(to, f));
}

describe('hardening corpus', () => {
  it(`${CASES} seeded corrupt folders: each ends in a coded error naming a file of its folder, none hangs or blows up`, async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'mil-corpus-'));
    try {
      const llama = await writeTinyTeacher(tmp);
      const hybridDir = join(tmp, 'tiny-hybrid');
      const hybrid = hybridConfigForTeacher(parseLlamaConfig(TINY_TEACHER_CONFIG), 'mamba2', [1, 3]);
      await saveHybrid(hybridDir, { teacher: parseLlamaConfig(TINY_TEACHER_CONFIG), hybrid, weights: randomHybridWeights(parseLlamaConfig(TINY_TEACHER_CONFIG), hybrid, 3) }, { tokenizerFrom: llama, fsync: false });

      const rng = createRng(2026);
      const cases: { id: number; dir: string; loader: 'llama' | 'hybrid'; kind: string; file: string }[] = [];
      for (let id = 0; id < CASES; id++) {
        const loader = rng() < 0.7 ? 'llama' : 'hybrid';
        const base = loader === 'llama' ? llama : hybridDir;
        const m = mutations(base, loader, rng);
        const dir = join(tmp, `case-${id}`);
        linkFolder(base, dir);
        m.apply(dir);
        cases.push({ id, dir, loader, kind: m.kind, file: m.file });
      }
      writeFileSync(join(tmp, 'cases.json'), JSON.stringify(cases));

      const results = await new Promise<{ lines: Record<string, unknown>[]; hung: string | null }>((done) => {
        const p = spawn(process.execPath, ['--max-old-space-size=1024', '--conditions=source', '--import', 'tsx', resolve(__dirname, 'helpers/corpus-worker.ts'), join(tmp, 'cases.json')], { cwd: resolve(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
        const lines: Record<string, unknown>[] = [];
        let started = '';
        let buf = '';
        let timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
        p.stdout.on('data', (b: Buffer) => {
          buf += b.toString();
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            clearTimeout(timer);
            timer = setTimeout(() => p.kill('SIGKILL'), CASE_CAP_MS);
            if (line.startsWith('start ')) started = line.slice(6);
            else lines.push(JSON.parse(line));
          }
        });
        let stderr = '';
        p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        p.on('exit', (code) => {
          clearTimeout(timer);
          done({ lines, hung: code === 0 ? null : `worker exited ${code} during case ${started}: ${stderr.slice(-2000)}` });
        });
      });
      expect(results.hung).toBeNull();
      const summary = results.lines.pop() as { done: boolean; maxRssKb: number };
      expect(summary.done).toBe(true);
      expect(results.lines).toHaveLength(CASES);
      const byKind = new Map<string, number>();
      let maxMs = 0;
      const failures: string[] = [];
      for (const r of results.lines as { id: number; code: string | null; message: string; ms: number }[]) {
        const c = cases[r.id];
        byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + 1);
        const what = `case ${r.id} (${c.kind} of ${c.file}): ${r.code} ${r.message}`;
        const namesFile = r.message.includes(`${c.dir}/`) && /(config\.json|model\.safetensors|tokenizer\.json|mamba_config\.json)/.test(r.message);
        if (!r.code || !/^[A-Z][A-Z0-9_]+$/.test(r.code) || !namesFile || !(r.ms < CASE_CAP_MS)) failures.push(what);
        maxMs = Math.max(maxMs, r.ms);
      }
      expect(failures.slice(0, 20)).toEqual([]);
      expect(summary.maxRssKb * 1024).toBeLessThan(RSS_CAP);
      const codes = new Map<string, number>();
      for (const r of results.lines as { code: string }[]) codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
      console.log(JSON.stringify({ cases: CASES, coded: results.lines.length, kinds: byKind.size, maxMs: Math.round(maxMs), maxRssMb: Math.round(summary.maxRssKb / 1024), codes: Object.fromEntries(codes) }));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 600_000);
});
