// Speculative sampling preserves the target distribution with top-p and top-k + top-p (cases 2–3), and with a drafter
// that stops early when unsure (adaptive K, case 4) and n-gram lookup with a model fallback (case 5); see
// distribution.test.ts.
import { describe, it } from 'vitest';
import { cases, checkCase } from './helpers/distribution';

describe('speculative sampling preserves the target distribution with nucleus filtering (chi-square, 20k runs)', () => {
  for (const i of [2, 3, 4, 5]) {
    it(`${cases[i].name}: first token, (first, second), second after a rejected / accepted round, third; plain too`, () =>
      checkCase(cases[i], i));
  }
});
