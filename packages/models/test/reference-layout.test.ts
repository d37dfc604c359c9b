// A student we save meets every condition the reference's loader (`from_pretrained_local` in MambaInLlama's
// mamba/ and mamba2/ hybrid_wrapper.py) puts on a folder, checked against students the reference itself saved
// (fixtures/reference/ref-mamba{1,2}-hybrid): config.json names the teacher in `_name_or_path`; mamba_config.json
// has exactly the fields of the reference's MambaConfig dataclass (built with `MambaConfig(**json)`, so an extra
// field would be an error) with the same values; model.safetensors holds exactly the keys of the model's strict
// state dict (`load_state_dict` rejects missing and unexpected keys), with the same shapes, tied head included.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint } from '@mil/checkpoint';
import { hybridConfigForTeacher, loadHybrid, loadLlama, randomHybridWeights, saveHybrid } from '../src/index';

const ROOT = new URL('./fixtures/reference/', import.meta.url).pathname;
const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mil-ref-layout-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;

/** Tensor name → shape of a folder's weights. */
async function shapes(dir: string): Promise<Map<string, string>> {
  const ck = await openCheckpoint(dir);
  try {
    return new Map(ck.names.map((n) => [n, ck.info(n).shape.join('x')]));
  } finally {
    await ck.close();
  }
}

const sorted = (m: Map<string, string>) => [...m].sort(([a], [b]) => a.localeCompare(b));

describe('students we save load in the reference loader (checked against students the reference saved)', () => {
  for (const variant of ['mamba2', 'mamba1'] as const) {
    it(`${variant}: _name_or_path, the MambaConfig fields and values, the strict key set and shapes`, async () => {
      const teacherDir = join(ROOT, 'hf-llama3-untied');
      const refDir = join(ROOT, `ref-${variant}-hybrid`);
      const { config: teacher } = await loadLlama(teacherDir);
      const refMamba = await readJson(join(refDir, 'mamba_config.json'));
      const hybrid = hybridConfigForTeacher(teacher, variant, refMamba.attn_layers as number[]);
      const out = await tmp();
      await saveHybrid(out, { teacher, hybrid, weights: randomHybridWeights(teacher, hybrid, 3) }, { teacherNameOrPath: teacherDir, fsync: false });

      // config.json: the loader's only read is config_data["_name_or_path"] (then the teacher is loaded from there)
      const config = await readJson(join(out, 'config.json'));
      expect(config._name_or_path).toBe(teacherDir);
      expect(config.dtype).toBe('float32'); // the teacher spells it the transformers-5 way; the weights are F32
      const refConfig = await readJson(join(refDir, 'config.json'));
      expect(Object.keys(config).filter((k) => k !== '_name_or_path').sort()).toEqual(Object.keys(refConfig).sort());

      // mamba_config.json: the same fields, in the same order, with the same values; vocab_size is ours to fill
      const mamba = await readJson(join(out, 'mamba_config.json'));
      expect(Object.keys(mamba)).toEqual(Object.keys(refMamba));
      expect({ ...mamba, vocab_size: null }).toEqual(refMamba);
      expect(mamba.vocab_size).toBe(teacher.vocabSize);

      // model.safetensors: exactly the keys and shapes of the reference's student
      expect(sorted(await shapes(out))).toEqual(sorted(await shapes(refDir)));

      // and the reference's own student, re-saved by us with the teacher named, is the same folder plus _name_or_path
      const ref = await loadHybrid(refDir);
      const again = await tmp();
      await saveHybrid(again, ref, { teacherNameOrPath: teacherDir, fsync: false });
      expect(await readJson(join(again, 'config.json'))).toEqual({ ...refConfig, _name_or_path: teacherDir });
      expect(await readJson(join(again, 'mamba_config.json'))).toEqual(refMamba);
      expect(sorted(await shapes(again))).toEqual(sorted(await shapes(refDir)));
    });
  }

  it('tied teacher: lm_head.weight is written (= the embedding) unless tiedLmHead is false', async () => {
    const teacherDir = join(ROOT, 'hf-llama-tied'); // 2 layers, tied, no lm_head.weight on disk
    const { config: teacher } = await loadLlama(teacherDir);
    const hybrid = hybridConfigForTeacher(teacher, 'mamba2', [1]); // Mamba at 0, attention at 1, like the fixtures' first two layers
    const weights = randomHybridWeights(teacher, hybrid, 4);
    const out = await tmp();
    await saveHybrid(out, { teacher, hybrid, weights }, { teacherNameOrPath: teacherDir, fsync: false });
    // the strict key set: the reference student's first two layers, the embedding, the final norm and the head
    const ref = await shapes(join(ROOT, 'ref-mamba2-hybrid'));
    const expected = new Map([...ref].filter(([n]) => !/^model\.layers\.[23]\./.test(n)));
    expect(sorted(await shapes(out))).toEqual(sorted(expected));
    const ck = await openCheckpoint(out);
    expect(await ck.read('lm_head.weight', { as: 'float32' })).toEqual(await ck.read('model.embed_tokens.weight', { as: 'float32' }));
    await ck.close();
    expect((await readJson(join(out, 'config.json')))._name_or_path).toBe(teacherDir);
    // what we load back ignores the duplicate head
    const back = await loadHybrid(out);
    expect(back.unused).toEqual(['lm_head.weight']);

    const without = await tmp();
    await saveHybrid(without, { teacher, hybrid, weights }, { teacherNameOrPath: teacherDir, tiedLmHead: false, fsync: false });
    expect((await shapes(without)).has('lm_head.weight')).toBe(false);
  });
});
