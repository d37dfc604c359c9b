// `cacheBytes` of both sessions equals the state size worked out by hand from the config, through prefill, decode,
// rollback, snapshots and reset (bench:hybrid reports it as "cache bytes per sequence").
import { describe, it, expect } from 'vitest';
import { LlamaSession } from '../src/llama/session';
import { HybridSession } from '../src/hybrid/hybrid-session';
import { hybridConfigForTeacher } from '../src/hybrid/hybrid-dims';
import { randomHybridWeights } from '../src/hybrid/hybrid-weights';
import { randomLlamaWeights, type LlamaOracleConfig } from '../src/oracle';

// 4 layers, 4 query / 2 KV heads of 64 / 4 = 16.
const teacher: LlamaOracleConfig = {
  vocab_size: 41, hidden_size: 64, intermediate_size: 48, num_hidden_layers: 4, num_attention_heads: 4,
  num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 64,
};
const ids = [5, 9, 2, 33, 17, 8, 1, 40, 12, 3];

describe('LlamaSession.cacheBytes', () => {
  for (const [dtype, bytes] of [['float32', 4], ['float16', 2]] as const) {
    it(`${dtype}: 2 × 4 layers × 2 kv heads × 16 × tokens × ${bytes} B`, async () => {
      const perToken = 2 * 4 * 2 * 16 * bytes;
      const s = await LlamaSession.create(teacher, randomLlamaWeights(teacher, 3), { threads: 1, dtype });
      expect(s.cacheBytes).toBe(0);
      await s.forward(ids.slice(0, 6));
      expect(s.cacheBytes).toBe(6 * perToken);
      await s.decode(ids[6]);
      expect(s.cacheBytes).toBe(7 * perToken);
      s.truncate(3);
      expect(s.cacheBytes).toBe(3 * perToken);
      s.reset();
      expect(s.cacheBytes).toBe(0);
      await s.release();
    });
  }
});

describe('HybridSession.cacheBytes', () => {
  // Attention at layers 1 and 3: KV 2 × 2 layers × 2 kv heads × 16 × 4 B = 512 B per token. Mamba at 0 and 2,
  // d_inner 64, d_xb 32, d_conv 4: Mamba-2 (d_state = head dim 16) conv (2·32 + 64) × 3 + ssm 4 heads × 16 × 16
  // = 384 + 1024 floats; Mamba-1 (d_state 16) conv 64 × 3 + ssm 64 × 16 = 192 + 1024 floats.
  const cases = [
    ['mamba2', 2 * (384 + 1024) * 4],
    ['mamba1', 2 * (192 + 1024) * 4],
  ] as const;
  for (const [variant, fixed] of cases) {
    it(`${variant}: 512 B per token + ${fixed} B of conv and SSM state`, async () => {
      const hybrid = hybridConfigForTeacher(teacher, variant, [1, 3]);
      const s = await HybridSession.create(teacher, hybrid, randomHybridWeights(teacher, hybrid, 5), { threads: 1, spinning: false });
      const at = (n: number) => 512 * n + fixed;
      expect(s.cacheBytes).toBe(at(0));
      await s.forward(ids.slice(0, 4));
      expect(s.cacheBytes).toBe(at(4));
      await s.decode(ids[4]);
      const snap = s.snapshot();
      await s.forward(ids.slice(5, 8));
      expect(s.cacheBytes).toBe(at(8));
      // A rollback keeps 6 KV rows; the Mamba layers' kept token is replayed inside the next forward (fixed state).
      s.truncate(6);
      expect(s.cacheBytes).toBe(at(6));
      await s.forward(ids.slice(6, 10));
      expect(s.cacheBytes).toBe(at(10));
      s.restore(snap);
      expect(s.cacheBytes).toBe(at(5));
      s.reset();
      expect(s.cacheBytes).toBe(at(0));
      await s.release();
    });
  }
});
