// Data sources: seeded order, resumable positions, epoch coverage.
import { describe, expect, it } from 'vitest';
import { arrayDataSource, seededPermutation } from '../src/index';
import { mixSeeds } from '@mil/core';

describe('arrayDataSource', () => {
  const items = Array.from({ length: 23 }, (_, i) => i);

  it('covers every item once per epoch, in a seed-dependent order', () => {
    const src = arrayDataSource(items, { batchSize: 5 });
    const e1 = [...(src.batches(mixSeeds(1, 0), 0) as Iterable<number[]>)];
    const e2 = [...(src.batches(mixSeeds(1, 1), 0) as Iterable<number[]>)];
    expect(e1.map((b) => b.length)).toEqual([5, 5, 5, 5, 3]);
    expect(e1.flat().sort((a, b) => a - b)).toEqual(items);
    expect(e2.flat().sort((a, b) => a - b)).toEqual(items);
    expect(e1.flat()).not.toEqual(e2.flat());
    expect([...(src.batches(mixSeeds(1, 0), 0) as Iterable<number[]>)]).toEqual(e1);
  });

  it('resumes from any position with the same remaining batches', () => {
    const src = arrayDataSource(items, { batchSize: 4, dropLast: true, collate: (xs) => xs.join(',') });
    const all = [...(src.batches(42, 0) as Iterable<string>)];
    expect(all).toHaveLength(5);
    for (let p = 0; p <= all.length; p++) expect([...(src.batches(42, p) as Iterable<string>)]).toEqual(all.slice(p));
  });

  it('keeps order without shuffle', () => {
    const src = arrayDataSource(items, { batchSize: 10, shuffle: false });
    expect([...(src.batches(5, 1) as Iterable<number[]>)]).toEqual([items.slice(10, 20), items.slice(20)]);
  });
});

describe('seeds', () => {
  it('mixSeeds is deterministic and sensitive to every part', () => {
    expect(mixSeeds(1, 2, 3)).toBe(mixSeeds(1, 2, 3));
    const seen = new Set([mixSeeds(1, 2, 3), mixSeeds(1, 2, 4), mixSeeds(1, 3, 3), mixSeeds(2, 2, 3), mixSeeds(3, 2, 1)]);
    expect(seen.size).toBe(5);
  });

  it('seededPermutation is a permutation', () => {
    const p = seededPermutation(100, 9);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([...p]).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
