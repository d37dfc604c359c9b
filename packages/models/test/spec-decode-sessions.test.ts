// The real sessions in @mil/spec-decode's loop: greedy speculative decoding is token-identical to plain greedy
// decoding of the same target, for the teacher and both hybrid targets, with a model draft that agrees with the
// target (every draft accepted), one that mostly does not (random other weights; a Mamba-2 hybrid, restored from
// snapshots) and the n-gram drafter, for K = 1 … 8 and runs that hit EOS mid-round.
import { describe, it, expect } from 'vitest';
import { decodeAll, modelDrafter, ngramDrafter, plainDecode, speculativeDecode, type DraftModel, type Drafter, type VerifyTarget } from '@mil/spec-decode';
import { HybridSession } from '../src/hybrid/hybrid-session';
import { LlamaSession } from '../src/llama/session';
import { hybridConfigForTeacher } from '../src/hybrid/hybrid-dims';
import { randomHybridWeights } from '../src/hybrid/hybrid-weights';
import { randomLlamaWeights, type LlamaOracleConfig } from '../src/oracle';

const teacher: LlamaOracleConfig = {
  vocab_size: 41, hidden_size: 64, intermediate_size: 48, num_hidden_layers: 4, num_attention_heads: 4,
  num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 256,
};
const opts = { threads: 1 };
const prompts = [[3, 14, 15, 9, 2], [7, 7, 7, 1], [20, 11, 5, 33, 8, 30, 2, 17]];

// The sessions' `prefill` resolves to the last row's logits (StepModel); spec-decode's optional `prefill` is typed
// `Promise<void>` (same call on an empty model: append the prompt), so the types meet only through `unknown`.
const asTarget = (s: LlamaSession | HybridSession) => s as unknown as VerifyTarget & DraftModel;

async function target(kind: 'teacher' | 'mamba1' | 'mamba2', seed: number): Promise<LlamaSession | HybridSession> {
  if (kind === 'teacher') return LlamaSession.create(teacher, randomLlamaWeights(teacher, seed), opts);
  const h = hybridConfigForTeacher(teacher, kind, [1, 3]);
  return HybridSession.create(teacher, h, randomHybridWeights(teacher, h, seed), opts);
}

describe('greedy speculative decoding through the sessions equals plain greedy decoding', () => {
  for (const kind of ['teacher', 'mamba2', 'mamba1'] as const) {
    it(`${kind} target`, async () => {
      const session = await target(kind, 1);
      const t = asTarget(session);
      const same = await target(kind, 1); // agrees with the target: every draft accepted
      const h2 = hybridConfigForTeacher(teacher, 'mamba2', [1]);
      const other = await HybridSession.create(teacher, h2, randomHybridWeights(teacher, h2, 9), opts); // disagrees
      const drafters: [string, Drafter][] = [['same', modelDrafter(asTarget(same))], ['other', modelDrafter(asTarget(other))], ['ngram', ngramDrafter()]];
      let allAccepted = 0;
      let noneAccepted = 0;
      for (const prompt of prompts) {
        const plain = await decodeAll(plainDecode(t, prompt, { maxNewTokens: 20 }));
        // An EOS that the plain run emits mid-way: the speculative run must stop at the same place.
        const eos = plain.tokens[11];
        const plainEos = await decodeAll(plainDecode(t, prompt, { maxNewTokens: 20, eos }));
        for (const [name, drafter] of drafters) {
          for (const k of [1, 2, 3, 4, 6, 8]) {
            const spec = await decodeAll(speculativeDecode(t, drafter, prompt, { k, maxNewTokens: 20 }), (ev) => {
              if (ev.stats.drafted > 0 && ev.stats.accepted === ev.stats.drafted) allAccepted++;
              if (ev.stats.drafted > 0 && ev.stats.accepted === 0) noneAccepted++;
            });
            expect(spec.tokens, `${name} K=${k}`).toEqual(plain.tokens);
            const specEos = await decodeAll(speculativeDecode(t, drafter, prompt, { k, maxNewTokens: 20, eos }));
            expect(specEos.tokens, `${name} K=${k} eos`).toEqual(plainEos.tokens);
          }
        }
      }
      expect(allAccepted).toBeGreaterThan(0);
      expect(noneAccepted).toBeGreaterThan(0);
      for (const s of [session, same, other]) await s.release();
    });
  }
});
