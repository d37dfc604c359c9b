import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { MilError } from '@mil/core';
import { assertMemoryFits, availableMemory, formatMemoryPlan, memoryPlan, MemoryPlanError } from '@mil/distill';
import { parseLlamaConfig } from '@mil/checkpoint';
import { layerSchedule, makeHybridConfig, studentParamCount } from '@mil/weight-transfer';

/** Llama-3.2-1B's shapes (its published parameter count is 1,235,814,400). */
const LLAMA_1B = parseLlamaConfig({
  model_type: 'llama',
  vocab_size: 128256, hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64,
  rms_norm_eps: 1e-5, rope_theta: 500000, tie_word_embeddings: true, max_position_embeddings: 131072,
});
const tiny = parseLlamaConfig(JSON.parse(readFileSync(new URL('../../../models/sotu-tiny/config.json', import.meta.url), 'utf8')));
const GiB = 2 ** 30;

describe('memory plan', () => {
  it("counts Llama-3.2-1B's 1,235,814,400 parameters and the student's from the weight specs", () => {
    const student = makeHybridConfig(LLAMA_1B, 'mamba2', layerSchedule(16, { attentionFraction: 0.5 }).attnLayers);
    const p = memoryPlan({ teacher: LLAMA_1B, student, trainable: 'mamba', batch: 1, seq: 64, budgetBytes: 64 * GiB });
    expect(p.teacherParams).toBe(1_235_814_400);
    expect(p.studentParams).toBe(studentParamCount(LLAMA_1B, student));
    expect(p.trainableParams).toBeGreaterThan(0);
    expect(p.trainableParams).toBeLessThan(p.studentParams / 2);
    const all = memoryPlan({ teacher: LLAMA_1B, student, trainable: 'all', batch: 1, seq: 64, budgetBytes: 64 * GiB });
    expect(all.trainableParams).toBe(all.studentParams);
    const item = (plan: typeof p, name: string) => plan.items.find((i) => i.name.startsWith(name))!.bytes;
    expect(item(p, 'teacher weights')).toBe(4 * 1_235_814_400);
    expect(item(all, 'optimizer state')).toBe(8 * all.studentParams);
    expect(p.totalBytes).toBe(p.items.reduce((s, i) => s + i.bytes, 0));
    // logits: 4 float32 tensors of [batch, seq, vocab]
    expect(item(p, 'logits')).toBe(4 * 4 * 64 * 128256);
  });

  it('activations grow with batch (linearly) and with seq (faster than linearly), weights do not', () => {
    const student = makeHybridConfig(tiny, 'mamba2', layerSchedule(tiny.numHiddenLayers, { attentionFraction: 0.5 }).attnLayers);
    const at = (batch: number, seq: number) => memoryPlan({ teacher: tiny, student, trainable: 'mamba', batch, seq, budgetBytes: GiB });
    const a = at(4, 128);
    const b = at(8, 128);
    const c = at(4, 256);
    for (let i = 0; i < a.items.length; i++) {
      if (a.items[i].name.startsWith('activations') || a.items[i].name.startsWith('logits')) {
        expect(b.items[i].bytes).toBe(2 * a.items[i].bytes);
        expect(c.items[i].bytes).toBeGreaterThanOrEqual(2 * a.items[i].bytes);
      } else expect(b.items[i].bytes).toBe(a.items[i].bytes);
    }
    expect(c.items.find((i) => i.name === 'activations, student step')!.bytes).toBeGreaterThan(2 * a.items.find((i) => i.name === 'activations, student step')!.bytes);
  });

  it('refuses with OUT_OF_MEMORY_PLAN and the figures when the budget is too small; prints aligned lines', () => {
    const student = makeHybridConfig(LLAMA_1B, 'mamba2', layerSchedule(16, { attentionFraction: 0.5 }).attnLayers);
    const p = memoryPlan({ teacher: LLAMA_1B, student, trainable: 'all', batch: 8, seq: 2048, budgetBytes: 16 * GiB });
    expect(p.fits).toBe(false);
    let err: unknown;
    try {
      assertMemoryFits(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MemoryPlanError);
    expect(err).toBeInstanceOf(MilError);
    const me = err as MemoryPlanError;
    expect(me.code).toBe('OUT_OF_MEMORY_PLAN');
    expect(me.message).toMatch(new RegExp(`needs about ${(p.totalBytes / GiB).toFixed(2)} GiB but 16\\.00 GiB is available \\(largest: `));
    expect(me.plan).toBe(p);
    expect(me.hint).toMatch(/--batch/);
    const lines = formatMemoryPlan(p);
    expect(lines.length).toBe(p.items.length + 2);
    expect(lines.at(-1)).toMatch(/DOES NOT FIT/);
    const small = memoryPlan({ teacher: tiny, student: makeHybridConfig(tiny, 'mamba2', [1, 3]), trainable: 'mamba', batch: 1, seq: 16, budgetBytes: 16 * GiB });
    expect(() => assertMemoryFits(small)).not.toThrow();
    expect(availableMemory()).toBeGreaterThan(0);
    expect(() => memoryPlan({ teacher: tiny, student: small && makeHybridConfig(tiny, 'mamba2', [1, 3]), trainable: 'mamba', batch: 0, seq: 16 })).toThrow(/batch must be a positive integer, got 0/);
  });
});
