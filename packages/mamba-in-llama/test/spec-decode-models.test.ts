// Speculative decoding with the real models: for the teacher and both committed hybrid targets (Mamba-2 and
// Mamba-1, 50% attention, distilled from the teacher) and every draft (the committed tiny Llama draft, the committed
// pure-Mamba draft, the pure-Mamba draft distilled from the Mamba-2 student, prompt lookup, prompt lookup with the Mamba draft as fallback and adaptive K), greedy speculative
// output must equal plain greedy output token for token, for
// several held-out prompts and K ∈ {1, 4, 8}, including a run that ends on EOS inside a round.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { resolve } from 'node:path';
import { HybridSession, LlamaSession, loadHybrid, loadLlama } from '@mil/models';
import { loadSotu } from '@mil/corpora';
import { decodeAll, fallbackDrafter, modelDrafter, ngramDrafter, plainDecode, speculativeDecode, type DraftModel, type Drafter } from '@mil/spec-decode';
import { specModel } from '../src/spec-model';

const root = resolve(__dirname, '../../..');
const NEW_TOKENS = 12;
const KS = [1, 4, 8];
const opts = { threads: 2, maxPositions: 512 };

type Session = LlamaSession | HybridSession;
const targets: { name: string; session: Session; model: DraftModel }[] = [];
const drafts: { name: string; make: () => Drafter; session: Session | null }[] = [];
let prompts: number[][] = [];

beforeAll(async () => {
  const teacher = await loadLlama(resolve(root, 'models/sotu-tiny'));
  const tok = teacher.tokenizer!;
  // Held-out prompts of different lengths, from different speeches (the last repeats itself: n-gram hits).
  const speeches = loadSotu({ fromYear: 2001 });
  prompts = [8, 40].map((n, i) => [tok.bosId ?? 1, ...tok.encode(speeches[i * 7].text, { addSpecialTokens: false }).slice(0, n)]);
  prompts.push([...prompts[0], ...prompts[0].slice(1), ...prompts[0].slice(1)]);
  const t = await LlamaSession.create(teacher.config, teacher.weights, opts);
  targets.push({ name: 'teacher', session: t, model: specModel(t) });
  for (const variant of ['mamba2', 'mamba1'] as const) {
    const h = await loadHybrid(resolve(root, `models/sotu-tiny-${variant}-50`));
    const s = await HybridSession.create(h.teacher, h.hybrid, h.weights, opts);
    targets.push({ name: `${variant} 50%`, session: s, model: specModel(s) });
  }
  const draft = await loadLlama(resolve(root, 'models/sotu-tiny-draft'));
  const llamaDraft = await LlamaSession.create(draft.config, draft.weights, opts);
  const md = await loadHybrid(resolve(root, 'models/sotu-tiny-draft-mamba'));
  const mambaDraft = await HybridSession.create(md.teacher, md.hybrid, md.weights, opts);
  const td = await loadHybrid(resolve(root, 'models/sotu-tiny-mamba2-50-draft'));
  const targetDraft = await HybridSession.create(td.teacher, td.hybrid, td.weights, opts);
  drafts.push(
    { name: 'tiny Llama draft', session: llamaDraft, make: () => modelDrafter(specModel(llamaDraft)) },
    { name: 'pure-Mamba draft', session: mambaDraft, make: () => modelDrafter(specModel(mambaDraft)) },
    { name: 'pure-Mamba draft of the Mamba-2 student', session: targetDraft, make: () => modelDrafter(specModel(targetDraft)) },
    { name: 'n-gram', session: null, make: () => ngramDrafter({ maxNgram: 3 }) },
    {
      name: 'lookup, else pure-Mamba draft with adaptive K',
      session: null, // the pure-Mamba draft's session, released above
      make: () => fallbackDrafter(ngramDrafter({ maxNgram: 3, minNgram: 2 }), modelDrafter(specModel(mambaDraft), { minConfidence: 0.4 })),
    },
  );
}, 120_000);

afterAll(async () => {
  for (const t of targets) await t.session.release();
  for (const d of drafts) await d.session?.release();
});

describe('speculative decoding with the real models', () => {
  it('greedy speculative output equals plain greedy output (3 targets × 5 drafters × 3 prompts × K 1, 4, 8)', async () => {
    let accepted = 0;
    let drafted = 0;
    let fullRounds = 0;
    let emptyRounds = 0;
    for (const t of targets) {
      for (const prompt of prompts) {
        t.model.reset();
        const plain = await decodeAll(plainDecode(t.model, prompt, { maxNewTokens: NEW_TOKENS }));
        expect(plain.tokens).toHaveLength(NEW_TOKENS);
        for (const d of drafts) {
          for (const k of KS) {
            t.model.reset();
            const done = await decodeAll(speculativeDecode(t.model, d.make(), prompt, { k, maxNewTokens: NEW_TOKENS }), (ev) => {
              if (ev.stats.drafted === k && ev.stats.accepted === k) fullRounds++;
              if (ev.stats.drafted > 0 && ev.stats.accepted === 0) emptyRounds++;
            });
            expect(done.tokens, `${t.name} × ${d.name}, K=${k}, prompt of ${prompt.length}`).toEqual(plain.tokens);
            accepted += done.summary.accepted;
            drafted += done.summary.drafted;
          }
        }
      }
    }
    // The drafts do predict the targets (a draft that never matched would not test acceptance), and both extreme
    // rounds — every draft accepted, none accepted — occurred.
    expect(accepted / drafted).toBeGreaterThan(0.1);
    expect(fullRounds).toBeGreaterThan(0);
    expect(emptyRounds).toBeGreaterThan(0);
  }, 360_000);

  it('stops on EOS inside a round exactly where plain decoding stops', async () => {
    for (const t of targets) {
      const prompt = prompts[1];
      t.model.reset();
      const ref = await decodeAll(plainDecode(t.model, prompt, { maxNewTokens: NEW_TOKENS }));
      // Declare the 6th generated token an end-of-sequence token: both decoders must stop right after its first use.
      const eos = ref.tokens[5];
      const stop = ref.tokens.indexOf(eos) + 1;
      t.model.reset();
      const plain = await decodeAll(plainDecode(t.model, prompt, { maxNewTokens: NEW_TOKENS, eos }));
      expect(plain.tokens).toEqual(ref.tokens.slice(0, stop));
      expect(plain.finishReason).toBe('eos');
      for (const d of drafts) {
        t.model.reset();
        const done = await decodeAll(speculativeDecode(t.model, d.make(), prompt, { k: 8, maxNewTokens: NEW_TOKENS, eos }));
        expect(done.tokens, `${t.name} × ${d.name}`).toEqual(plain.tokens);
        expect(done.finishReason).toBe('eos');
      }
    }
  }, 180_000);
});
