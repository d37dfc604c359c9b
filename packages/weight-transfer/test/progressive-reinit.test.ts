import { parseLlamaConfig, type LlamaConfig } from '@mil/checkpoint';
import { describe, it, expect } from 'vitest';
import { randomLlamaWeights } from '@mil/models';
import { initStudentFromTeacher, layerSchedule, makeHybridConfig, progressiveReinit, studentWeightSpecs, WeightTransferError } from '@mil/weight-transfer';
import { rows, sameBits, tinyTeacher } from './fixtures';
import { createRng } from '@mil/core';

// 8 layers so that 50% → 25% → 12.5% → 0% are all distinct steps.
const cfg = parseLlamaConfig({ ...tinyTeacher.raw, num_hidden_layers: 8 });
const D = 48;
const dInner = 64;
const dXb = 32;
const teacher = randomLlamaWeights(cfg, 21);
const sched = (f: 0.5 | 0.25 | 0.125 | 0) => layerSchedule(8, { attentionFraction: f }).attnLayers;

/** Stands in for a training stage: every tensor moves by seeded noise, so "fine-tuned" ≠ teacher everywhere. */
function fineTune(w: Map<string, Float32Array>, seed: number): Map<string, Float32Array> {
  const rng = createRng(seed);
  return new Map([...w].map(([n, v]) => [n, v.map((x) => x + 0.01 * (2 * rng() - 1))]));
}

for (const variant of ['mamba1', 'mamba2'] as const) {
  describe(`progressiveReinit (${variant})`, () => {
    const h50 = makeHybridConfig(cfg, variant, sched(0.5)); // attention 1,3,5,7
    const h25 = makeHybridConfig(cfg, variant, sched(0.25)); // attention 3,7
    const w50 = fineTune(initStudentFromTeacher(teacher, cfg, h50, { seed: 1 }), 99);
    const w25 = progressiveReinit(w50, h50, h25, cfg, { seed: 2 });
    const fresh25 = initStudentFromTeacher(teacher, cfg, h25, { seed: 2 });

    it('produces exactly the new student parameter set', () => {
      expect([...w25.keys()]).toEqual(studentWeightSpecs(cfg, h25).map((s) => s.name));
    });

    it('case (i): layers that were Mamba are loaded as they are', () => {
      for (const i of [0, 2, 4, 6]) {
        const names = [...w25.keys()].filter((n) => n.startsWith(`model.layers.${i}.`));
        expect(names.some((n) => n.includes('.mamba.'))).toBe(true);
        for (const n of names) expect(sameBits(w25.get(n)!, w50.get(n)!), n).toBe(true);
      }
    });

    it("case (ii): attention → Mamba takes x/B/C/out from the checkpoint's fine-tuned v/k/q/o and keeps its MLP/norms", () => {
      for (const i of [1, 5]) {
        const a = (p: string) => w50.get(`model.layers.${i}.self_attn.${p}_proj.weight`)!;
        const m = (p: string) => w25.get(`model.layers.${i}.mamba.${p}`)!;
        const teacherV = teacher.get(`model.layers.${i}.self_attn.v_proj.weight`)!;
        if (variant === 'mamba1') {
          expect(sameBits(m('in_proj_x.weight'), a('v'))).toBe(true);
          expect(sameBits(m('B_proj.weight'), a('k'))).toBe(true);
          expect(sameBits(m('C_proj.weight'), a('q'))).toBe(true);
          expect(sameBits(m('in_proj_x.weight'), teacherV)).toBe(false); // not the teacher's
        } else {
          const w = m('in_proj.weight');
          expect(sameBits(rows(w, D, dInner, dInner + dXb), a('v'))).toBe(true);
          expect(sameBits(rows(w, D, dInner + dXb, dInner + 2 * dXb), a('k'))).toBe(true);
          expect(sameBits(rows(w, D, dInner + 2 * dXb, 2 * dInner + 2 * dXb), a('q'))).toBe(true);
          expect(sameBits(rows(w, D, dInner, dInner + dXb), teacherV)).toBe(false);
        }
        expect(sameBits(m('out_proj.weight'), a('o'))).toBe(true);
        for (const n of ['input_layernorm.weight', 'post_attention_layernorm.weight', 'mlp.gate_proj.weight', 'mlp.up_proj.weight', 'mlp.down_proj.weight']) {
          const full = `model.layers.${i}.${n}`;
          expect(sameBits(w25.get(full)!, w50.get(full)!), full).toBe(true);
          expect(sameBits(w25.get(full)!, teacher.get(full)!), full).toBe(false);
        }
        // new parameters: as a fresh init with the same seed would make them
        for (const [n, v] of fresh25) {
          if (!n.startsWith(`model.layers.${i}.mamba.`) || /(in_proj_x|B_proj|C_proj|out_proj|in_proj)\.weight$/.test(n)) continue;
          expect(sameBits(v, w25.get(n)!), n).toBe(true);
        }
        if (variant === 'mamba2') {
          const z = (w: Map<string, Float32Array>) => rows(w.get(`model.layers.${i}.mamba.in_proj.weight`)!, D, 0, dInner);
          expect(sameBits(z(w25), z(fresh25))).toBe(true);
        }
      }
    });

    it('case (iii): layers still attention are loaded as they are; embeddings, final norm, LM head from the checkpoint', () => {
      for (const i of [3, 7]) {
        for (const n of [...w25.keys()].filter((k) => k.startsWith(`model.layers.${i}.`))) expect(sameBits(w25.get(n)!, w50.get(n)!), n).toBe(true);
      }
      for (const n of ['model.embed_tokens.weight', 'model.norm.weight', 'lm_head.weight']) expect(sameBits(w25.get(n)!, w50.get(n)!), n).toBe(true);
    });

    it('chains 25% → 12.5% → 0%', () => {
      const h125 = makeHybridConfig(cfg, variant, sched(0.125));
      const h0 = makeHybridConfig(cfg, variant, sched(0));
      const w125 = progressiveReinit(fineTune(w25, 7), h25, h125, cfg, { seed: 3 });
      const w0 = progressiveReinit(w125, h125, h0, cfg, { seed: 4 });
      expect([...w0.keys()]).toEqual(studentWeightSpecs(cfg, h0).map((s) => s.name));
      expect([...w0.keys()].some((n) => n.includes('self_attn'))).toBe(false);
      const o7 = w125.get('model.layers.7.self_attn.o_proj.weight')!;
      expect(sameBits(w0.get('model.layers.7.mamba.out_proj.weight')!, o7)).toBe(true);
    });

    it('refuses to turn a Mamba layer back into attention, to change variant, or a missing checkpoint tensor', () => {
      expect(() => progressiveReinit(w25, h25, h50, cfg, { seed: 0 })).toThrowError(/layer 1 is Mamba in the previous hybrid but attention in the new one/);
      const other = makeHybridConfig(cfg, variant === 'mamba1' ? 'mamba2' : 'mamba1', sched(0.25));
      expect(() => progressiveReinit(w50, h50, other, cfg, { seed: 0 })).toThrowError(WeightTransferError);
      const broken = new Map(w50);
      broken.delete('model.layers.5.self_attn.o_proj.weight');
      try {
        progressiveReinit(broken, h50, h25, cfg, { seed: 0 });
        throw new Error('expected a throw');
      } catch (e) {
        expect((e as WeightTransferError).code).toBe('MISSING_TENSOR');
        expect((e as Error).message).toMatch(/previous hybrid tensor model\.layers\.5\.self_attn\.o_proj\.weight is missing/);
      }
    });
  });
}

// The ablations: a random-init student must not take any Mamba layer from attention, at its first stage or when the
// schedule later replaces more layers; 'random-layer' also starts the MLP and norms of those layers fresh.
for (const variant of ['mamba1', 'mamba2'] as const) {
  describe(`random-init ablations through progressive re-initialisation (${variant})`, () => {
    const h50 = makeHybridConfig(cfg, variant, sched(0.5)); // Mamba 0, 2, 4, 6
    const h25 = makeHybridConfig(cfg, variant, sched(0.25)); // + Mamba 1, 5
    const attnProj = (w: Map<string, Float32Array>, i: number) => ['q', 'k', 'v', 'o'].map((p) => w.get(`model.layers.${i}.self_attn.${p}_proj.weight`)!);
    /** The mixer tensors that attention init fills (Mamba-2: the x/B/C row blocks and out_proj). */
    const attnFilled = (w: Map<string, Float32Array>, i: number): Float32Array[] => {
      const m = (n: string) => w.get(`model.layers.${i}.mamba.${n}`)!;
      if (variant === 'mamba1') return [m('C_proj.weight'), m('B_proj.weight'), m('in_proj_x.weight'), m('out_proj.weight')];
      const ip = m('in_proj.weight');
      return [rows(ip, D, dInner + 2 * dXb, 2 * dInner + 2 * dXb), rows(ip, D, dInner + dXb, dInner + 2 * dXb), rows(ip, D, dInner, dInner + dXb), m('out_proj.weight')];
    };
    const body = ['input_layernorm.weight', 'post_attention_layernorm.weight', 'mlp.gate_proj.weight', 'mlp.up_proj.weight', 'mlp.down_proj.weight'];

    for (const init of ['random-layer', 'random-mixer'] as const) {
      it(`${init}: no Mamba layer equals what attention init gives, at the first stage and after the re-init; MLP/norms ${init === 'random-layer' ? 'fresh' : 'kept'}`, () => {
        const first = initStudentFromTeacher(teacher, cfg, h50, { seed: 1, init });
        const firstAttn = initStudentFromTeacher(teacher, cfg, h50, { seed: 1 });
        const trained = fineTune(first, 5); // the stage trains; its attention layers move away from the teacher's
        const next = progressiveReinit(trained, h50, h25, cfg, { seed: 2, init });
        const nextAttn = progressiveReinit(trained, h50, h25, cfg, { seed: 2 });
        const checks: [Map<string, Float32Array>, Map<string, Float32Array>, number[], Map<string, Float32Array>][] = [
          [first, firstAttn, [0, 2, 4, 6], teacher],
          [next, nextAttn, [1, 5], trained],
        ];
        for (const [got, attnInit, layers, source] of checks) {
          for (const i of layers) {
            const a = attnFilled(got, i);
            const b = attnFilled(attnInit, i);
            const src = attnProj(source, i);
            for (let k = 0; k < 4; k++) {
              expect(sameBits(a[k], b[k]), `layer ${i} block ${k}`).toBe(false);
              expect(sameBits(b[k], src[k])).toBe(true); // what attention init takes (so the comparison means something)
            }
            for (const n of body) {
              const full = `model.layers.${i}.${n}`;
              if (init === 'random-mixer') expect(sameBits(got.get(full)!, source.get(full)!), full).toBe(true);
              else {
                expect(sameBits(got.get(full)!, source.get(full)!), full).toBe(false);
                const v = got.get(full)!;
                if (n.endsWith('layernorm.weight')) expect(v.every((x) => x === 1), full).toBe(true);
                else expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(n.includes('down') ? 80 : D));
              }
            }
          }
        }
        // layers that were Mamba come through the re-init unchanged, whatever the init
        for (const i of [0, 2, 4, 6]) for (const n of [...next.keys()].filter((k) => k.startsWith(`model.layers.${i}.`))) expect(sameBits(next.get(n)!, trained.get(n)!), n).toBe(true);
      });
    }
  });
}
