import { parseLlamaConfig } from '@mil/checkpoint';
import { isMilError } from '@mil/core';
import { describe, it, expect } from 'vitest';
import { llamaWeightSpecs, randomLlamaWeights } from '@mil/models';
import { initStudentFromTeacher, layerSchedule, makeHybridConfig, studentWeightSpecs, WeightTransferError } from '@mil/weight-transfer';
import { contractMixerShapes, prod, rows, sameBits, tinyTeacher } from './fixtures';

const cfg = tinyTeacher;
const D = 48;
const dInner = 64;
const dXb = 32;
const H = 4;
const teacher = randomLlamaWeights(cfg, 11);
const sched = layerSchedule(4, { attentionFraction: 0.5 }); // Mamba 0, 2; attention 1, 3
const t = (n: string) => teacher.get(n)!;

for (const variant of ['mamba1', 'mamba2'] as const) {
  describe(`initStudentFromTeacher (${variant})`, () => {
    const hybrid = makeHybridConfig(cfg, variant, sched.attnLayers);
    const student = initStudentFromTeacher(teacher, cfg, hybrid, { seed: 5 });
    const shapes = contractMixerShapes(variant, cfg);

    it('has exactly the contract tensors, each with the contract number of values', () => {
      const expected = new Map<string, number>();
      for (const s of llamaWeightSpecs(cfg)) {
        const layer = /^model\.layers\.(\d+)\.self_attn\./.exec(s.name);
        if (layer === null || sched.attnLayers.includes(Number(layer[1]))) expected.set(s.name, prod(s.shape));
      }
      for (const i of sched.ssmLayers) for (const [n, shape] of Object.entries(shapes)) expected.set(`model.layers.${i}.mamba.${n}`, prod(shape));
      expect(new Set(student.keys())).toEqual(new Set(expected.keys()));
      for (const [n, size] of expected) expect(student.get(n)!.length, n).toBe(size);
      expect([...student.keys()]).toEqual(studentWeightSpecs(cfg, hybrid).map((s) => s.name));
    });

    it('copies V→x, K→B, Q→C, O→out bit-exactly into the right place', () => {
      for (const i of sched.ssmLayers) {
        const a = `model.layers.${i}.self_attn.`;
        const m = `model.layers.${i}.mamba.`;
        if (variant === 'mamba1') {
          expect(sameBits(student.get(`${m}in_proj_x.weight`)!, t(`${a}v_proj.weight`))).toBe(true);
          expect(sameBits(student.get(`${m}B_proj.weight`)!, t(`${a}k_proj.weight`))).toBe(true);
          expect(sameBits(student.get(`${m}C_proj.weight`)!, t(`${a}q_proj.weight`))).toBe(true);
        } else {
          const w = student.get(`${m}in_proj.weight`)!;
          expect(sameBits(rows(w, D, dInner, dInner + dXb), t(`${a}v_proj.weight`))).toBe(true);
          expect(sameBits(rows(w, D, dInner + dXb, dInner + 2 * dXb), t(`${a}k_proj.weight`))).toBe(true);
          expect(sameBits(rows(w, D, dInner + 2 * dXb, 2 * dInner + 2 * dXb), t(`${a}q_proj.weight`))).toBe(true);
          // z rows and dt rows are new: Linear default U(±1/√D), nothing from the teacher
          const bound = 1 / Math.sqrt(D);
          for (const r of [rows(w, D, 0, dInner), rows(w, D, 2 * dInner + 2 * dXb, 2 * dInner + 2 * dXb + H)]) {
            expect(Math.max(...r.map(Math.abs))).toBeLessThanOrEqual(bound);
          }
        }
        expect(sameBits(student.get(`${m}out_proj.weight`)!, t(`${a}o_proj.weight`))).toBe(true);
      }
    });

    it('copies MLPs, norms, embeddings, final norm, LM head and kept attention layers unchanged', () => {
      let copied = 0;
      for (const [n, w] of student) {
        if (n.includes('.mamba.')) continue;
        expect(sameBits(w, t(n)), n).toBe(true);
        expect(w).not.toBe(t(n)); // a copy, not the teacher's array
        copied++;
      }
      expect(copied).toBe(llamaWeightSpecs(cfg).length - 4 * sched.ssmLayers.length);
    });

    it('is deterministic in the seed; another seed changes only the new parameters', () => {
      const again = initStudentFromTeacher(teacher, cfg, hybrid, { seed: 5 });
      const other = initStudentFromTeacher(teacher, cfg, hybrid, { seed: 6 });
      for (const [n, w] of student) {
        expect(sameBits(again.get(n)!, w), n).toBe(true);
        const fixed = !n.includes('.mamba.') || /(in_proj_x|B_proj|C_proj|out_proj)\.weight$|\.A_log$|\.D$|norm\.weight$/.test(n);
        if (variant === 'mamba2' && n.endsWith('.A_log')) expect(sameBits(other.get(n)!, w)).toBe(false);
        else expect(sameBits(other.get(n)!, w), n).toBe(fixed);
      }
    });

    it('shareCopied puts the teacher arrays themselves into the result', () => {
      const shared = initStudentFromTeacher(teacher, cfg, hybrid, { seed: 5, shareCopied: true });
      expect(shared.get('model.embed_tokens.weight')).toBe(t('model.embed_tokens.weight'));
      expect(shared.get('model.layers.1.self_attn.q_proj.weight')).toBe(t('model.layers.1.self_attn.q_proj.weight'));
    });
  });
}

describe('random-init ablation (init_with_kqvo = false)', () => {
  for (const variant of ['mamba1', 'mamba2'] as const) {
    it(`${variant}: no Mamba row equals any teacher attention row; MLP/norms still copied; new params as with attention init`, () => {
      const hybrid = makeHybridConfig(cfg, variant, []);
      const rnd = initStudentFromTeacher(teacher, cfg, hybrid, { seed: 3, init: 'random' });
      const att = initStudentFromTeacher(teacher, cfg, hybrid, { seed: 3 });
      const teacherRows = new Set<string>();
      for (const [n, w] of teacher) {
        if (!n.includes('self_attn')) continue;
        const cols = n.endsWith('o_proj.weight') ? dInner : D;
        for (let r = 0; r < w.length / cols; r++) teacherRows.add(Array.from(rows(w, cols, r, r + 1)).join(','));
      }
      for (const [n, w] of rnd) {
        if (!n.includes('.mamba.')) {
          expect(sameBits(w, t(n)), n).toBe(true);
          continue;
        }
        for (const cols of [D, dInner]) {
          if (w.length % cols !== 0) continue;
          for (let r = 0; r < w.length / cols; r++) expect(teacherRows.has(Array.from(rows(w, cols, r, r + 1)).join(','))).toBe(false);
        }
        if (/(in_proj_x|B_proj|C_proj|in_proj)\.weight$/.test(n)) expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(D));
        if (n.endsWith('out_proj.weight')) expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(dInner));
      }
      // parameters that attention never initialises are the same in both modes (same seed)
      for (const [n, w] of att) {
        if (/mamba\.(in_proj_z\.weight|dt_proj.*|conv1d.*|A_log|D|dt_bias|norm\.weight)$/.test(n)) expect(sameBits(rnd.get(n)!, w), n).toBe(true);
      }
      if (variant === 'mamba2') {
        const a = att.get('model.layers.0.mamba.in_proj.weight')!;
        const r = rnd.get('model.layers.0.mamba.in_proj.weight')!;
        expect(sameBits(rows(a, D, 0, dInner), rows(r, D, 0, dInner))).toBe(true); // z rows
        expect(sameBits(rows(a, D, dInner, dInner + dXb), rows(r, D, dInner, dInner + dXb))).toBe(false); // x rows
      }
    });
  }
});

describe('errors name the tensor at fault', () => {
  const hybrid = makeHybridConfig(cfg, 'mamba1', sched.attnLayers);
  const expectErr = (f: () => unknown, code: string, tensor: string | undefined, re: RegExp) => {
    try {
      f();
    } catch (e) {
      expect(isMilError(e)).toBe(true);
      expect((e as WeightTransferError).code).toBe(code);
      expect((e as WeightTransferError).tensor).toBe(tensor);
      expect((e as Error).message).toMatch(re);
      return;
    }
    throw new Error('expected a MilError');
  };
  it('missing teacher tensor', () => {
    const w = new Map(teacher);
    w.delete('model.layers.2.self_attn.k_proj.weight');
    expectErr(() => initStudentFromTeacher(w, cfg, hybrid, { seed: 0 }), 'MISSING_TENSOR', 'model.layers.2.self_attn.k_proj.weight', /teacher tensor model\.layers\.2\.self_attn\.k_proj\.weight is missing \(expected shape \[32, 48\]\)/);
  });
  it('wrong-sized teacher tensor', () => {
    const w = new Map(teacher);
    w.set('model.layers.1.mlp.up_proj.weight', new Float32Array(10));
    expectErr(() => initStudentFromTeacher(w, cfg, hybrid, { seed: 0 }), 'BAD_TENSOR_SHAPE', 'model.layers.1.mlp.up_proj.weight', /expected shape \[80, 48\] \(3840 values\), got 10 values/);
  });
  it('random init does not need the replaced attention weights', () => {
    const w = new Map(teacher);
    w.delete('model.layers.0.self_attn.q_proj.weight');
    expect(() => initStudentFromTeacher(w, cfg, hybrid, { seed: 0, init: 'random' })).not.toThrow();
  });
  it('hybrid config that does not fit the teacher, bad seed, bad options, attention biases', () => {
    const other = makeHybridConfig(parseLlamaConfig({ ...cfg.raw, hidden_size: 64 }), 'mamba1', []);
    expectErr(() => initStudentFromTeacher(teacher, cfg, other, { seed: 0 }), 'BAD_CONFIG', undefined, /d_model = 64 .* hidden_size = 48/);
    expectErr(() => initStudentFromTeacher(teacher, cfg, hybrid, { seed: -1 }), 'BAD_OPTION', undefined, /seed/);
    expectErr(() => initStudentFromTeacher(teacher, cfg, hybrid, { seed: 0, init: 'zeros' as 'random' }), 'BAD_OPTION', undefined, /init/);
    expectErr(() => initStudentFromTeacher(teacher, cfg, hybrid, { seed: 0, dtBiasMode: 'x' as 'reference' }), 'BAD_OPTION', undefined, /dtBiasMode/);
    const biased = parseLlamaConfig({ ...cfg.raw, attention_bias: true });
    const wb = randomLlamaWeights(biased, 1);
    expectErr(() => initStudentFromTeacher(wb, biased, hybrid, { seed: 0 }), 'UNSUPPORTED', 'model.layers.0.self_attn.q_proj.bias', /attention biases/);
  });
});
