import { describe, it, expect } from 'vitest';
import { layerSchedule, stepwiseOrder, WeightTransferError } from '@mil/weight-transfer';

const range = (a: number, b: number, step = 1): number[] => Array.from({ length: Math.ceil((b - a) / step) }, (_, i) => a + i * step);

describe('layerSchedule: the reference table (dossier §1.1) for 32 layers', () => {
  it('50% attention: Mamba at even 0..30, attention at odd 1..31', () => {
    const s = layerSchedule(32, { attentionFraction: 0.5 });
    expect(s.ssmLayers).toEqual(range(0, 32, 2));
    expect(s.attnLayers).toEqual(range(1, 32, 2));
  });
  it('25% attention: attention at 3, 7, …, 31', () => {
    const s = layerSchedule(32, { attentionFraction: 0.25 });
    expect(s.attnLayers).toEqual([3, 7, 11, 15, 19, 23, 27, 31]);
    expect(s.ssmLayers).toHaveLength(24);
  });
  it('12.5% attention: attention at 7, 15, 23, 31', () => {
    const s = layerSchedule(32, { attentionFraction: 0.125 });
    expect(s.attnLayers).toEqual([7, 15, 23, 31]);
    expect(s.ssmLayers).toEqual(range(0, 32).filter((i) => ![7, 15, 23, 31].includes(i)));
  });
  it('0% attention: every layer Mamba', () => {
    expect(layerSchedule(32, { attentionFraction: 0 })).toEqual({ attnLayers: [], ssmLayers: range(0, 32) });
  });
  it('the 75% stage-1 intermediate: Mamba at 0, 4, …, 28', () => {
    expect(layerSchedule(32, { attentionFraction: 0.75 }).ssmLayers).toEqual(range(0, 32, 4));
  });
  it('Llama-3.2-3B (28 layers) at 50%: Mamba at even 0..26, attention at odd 1..27', () => {
    const s = layerSchedule(28, { attentionFraction: 0.5 });
    expect(s.ssmLayers).toEqual(range(0, 28, 2));
    expect(s.attnLayers).toEqual(range(1, 28, 2));
  });
  it('generalises by period: 28 layers at 12.5% keep 7, 15, 23 (no partial trailing block)', () => {
    expect(layerSchedule(28, { attentionFraction: 0.125 }).attnLayers).toEqual([7, 15, 23]);
    expect(layerSchedule(8, { attentionFraction: 0.25 }).attnLayers).toEqual([3, 7]);
  });
  it('every schedule is a partition of 0..n-1, both halves ascending', () => {
    for (const n of [1, 5, 28, 32]) {
      for (const f of [0.75, 0.5, 0.25, 0.125, 0] as const) {
        const { attnLayers, ssmLayers } = layerSchedule(n, { attentionFraction: f });
        expect([...attnLayers, ...ssmLayers].sort((a, b) => a - b)).toEqual(range(0, n));
        expect(attnLayers).toEqual([...attnLayers].sort((a, b) => a - b));
      }
    }
  });
});

describe('layerSchedule: stepwise and explicit lists', () => {
  it('stepwise order is even layers then odd (dossier §3.1)', () => {
    expect(stepwiseOrder(32)).toEqual([...range(0, 32, 2), ...range(1, 32, 2)]);
    expect(stepwiseOrder(4, 'first-to-last')).toEqual([0, 1, 2, 3]);
  });
  it('stepwise k replaces the first k layers of that order', () => {
    expect(layerSchedule(32, { stepwise: 0 }).ssmLayers).toEqual([]);
    expect(layerSchedule(32, { stepwise: 1 }).ssmLayers).toEqual([0]);
    expect(layerSchedule(32, { stepwise: 16 })).toEqual(layerSchedule(32, { attentionFraction: 0.5 }));
    expect(layerSchedule(32, { stepwise: 18 }).ssmLayers).toEqual([...range(0, 32, 2), 1, 3].sort((a, b) => a - b));
    expect(layerSchedule(32, { stepwise: 32 }).attnLayers).toEqual([]);
    expect(layerSchedule(5, { stepwise: 2, order: 'first-to-last' }).attnLayers).toEqual([2, 3, 4]);
  });
  it('the 8-layer picture of assets/stepwise.png (1-based 2,4,6,8 kept, then 4,8, then 8)', () => {
    expect(layerSchedule(8, { attentionFraction: 0.5 }).attnLayers.map((i) => i + 1)).toEqual([2, 4, 6, 8]);
    expect(layerSchedule(8, { attentionFraction: 0.25 }).attnLayers.map((i) => i + 1)).toEqual([4, 8]);
    expect(layerSchedule(8, { attentionFraction: 0.125 }).attnLayers.map((i) => i + 1)).toEqual([8]);
  });
  it('an explicit list is sorted and complemented', () => {
    expect(layerSchedule(6, { attnLayers: [5, 0, 2] })).toEqual({ attnLayers: [0, 2, 5], ssmLayers: [1, 3, 4] });
  });
  it('rejects bad specs with BAD_SCHEDULE', () => {
    const bad = (f: () => unknown, re: RegExp) => {
      expect(f).toThrowError(WeightTransferError);
      expect(f).toThrowError(re);
      try { f(); } catch (e) { expect((e as WeightTransferError).code).toBe('BAD_SCHEDULE'); }
    };
    bad(() => layerSchedule(32, { attentionFraction: 0.3 as 0.5 }), /attentionFraction.*0\.3/);
    bad(() => layerSchedule(4, { attnLayers: [4] }), /4 is not a layer index in \[0, 4\)/);
    bad(() => layerSchedule(4, { attnLayers: [1, 1] }), /distinct/);
    bad(() => layerSchedule(4, { stepwise: 5 }), /stepwise/);
    bad(() => layerSchedule(0, { attentionFraction: 0.5 }), /numLayers/);
  });
});
