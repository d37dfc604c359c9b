import { describe, it, expect } from 'vitest';
import { readFile, readdir, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  f32ToBf16,
  openCheckpoint,
  openSafetensors,
  parseSafetensors,
  serializeSafetensors,
  writeSafetensors,
  dtypeByteSize,
  ST_DTYPES,
  type StDtype,
  type TensorToWrite,
} from '@mil/checkpoint';
import { makeRng } from './helpers/rng';
import { withTempDir } from './helpers/tmp';

// Hand-built files, following the format description: u64 LE header size N, N bytes of UTF-8 JSON
// (padded with spaces so the data section starts 8-byte aligned), then the little-endian data.
function handBuilt(json: string, data: Uint8Array, pad = true): Uint8Array {
  const text = Buffer.from(json, 'utf8');
  const n = pad ? Math.ceil(text.length / 8) * 8 : text.length;
  const out = Buffer.alloc(8 + n + data.length, 0x20);
  out.writeBigUInt64LE(BigInt(n), 0);
  text.copy(out, 8);
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, 8 + n);
  return new Uint8Array(out);
}
const f32Bytes = (xs: number[]): Uint8Array => new Uint8Array(new Float32Array(xs).buffer);

describe('byte layout matches the format, byte for byte', () => {
  it('one F32 tensor whose header needs no padding (64 bytes)', () => {
    const json = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(json.length).toBe(64);
    const expected = handBuilt(json, f32Bytes([0, 1, 2, 3, 4, 5]));
    const got = serializeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
    expect(Buffer.from(got).equals(Buffer.from(expected))).toBe(true);
    expect(Array.from(got.subarray(0, 8))).toEqual([64, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('pads the header with spaces to a multiple of 8 (65 → 72 bytes)', () => {
    const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    expect(json.length).toBe(65);
    const got = serializeSafetensors({ attn0: { dtype: 'F32', shape: [1, 1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
    expect(Buffer.from(got).equals(Buffer.from(handBuilt(json, f32Bytes([0, 1, 2, 3, 4, 5]))))).toBe(true);
    expect(got[0]).toBe(72);
    expect(Buffer.from(got.subarray(8 + 65, 8 + 72)).toString()).toBe('       ');
  });

  it('an empty file is "{}" plus six spaces; metadata comes first as __metadata__', () => {
    expect(Array.from(serializeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from('{}      ')]);
    const withMeta = serializeSafetensors({}, { metadata: { framework: 'pt' } });
    expect(Buffer.from(withMeta).equals(Buffer.from(handBuilt('{"__metadata__":{"framework":"pt"}}', new Uint8Array(0))))).toBe(true);
    expect(withMeta[0]).toBe(40);
  });

  it('orders tensors by dtype alignment, then by name (as the reference writer), and offsets are contiguous', () => {
    const t = (dtype: StDtype, shape: number[], data: ArrayBufferView): TensorToWrite => ({ dtype, shape, data });
    const got = serializeSafetensors(
      new Map([
        ['b', t('U8', [1], new Uint8Array([7]))],
        ['a', t('F32', [1], new Float32Array([1]))],
        ['c', t('BOOL', [2], new Uint8Array([1, 0]))],
        ['z', t('I64', [1], new BigInt64Array([-2n]))],
        ['10', t('F32', [1], new Float32Array([2]))],
        ['e', t('BF16', [1], new Uint16Array([0x3f80]))],
        ['a2', t('F64', [1], new Float64Array([0.5]))],
      ]),
      { metadata: { format: 'pt' } },
    );
    const json =
      '{"__metadata__":{"format":"pt"},' +
      '"z":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},' +
      '"a2":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},' +
      '"10":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},' +
      '"a":{"dtype":"F32","shape":[1],"data_offsets":[20,24]},' +
      '"e":{"dtype":"BF16","shape":[1],"data_offsets":[24,26]},' +
      '"b":{"dtype":"U8","shape":[1],"data_offsets":[26,27]},' +
      '"c":{"dtype":"BOOL","shape":[2],"data_offsets":[27,29]}}';
    const data = Buffer.concat([
      Buffer.from(new BigInt64Array([-2n]).buffer),
      Buffer.from(new Float64Array([0.5]).buffer),
      Buffer.from(new Float32Array([2, 1]).buffer),
      Buffer.from([0x80, 0x3f, 7, 1, 0]),
    ]);
    expect(Buffer.from(got).equals(Buffer.from(handBuilt(json, data)))).toBe(true);
  });

  it('reads a hand-built file whose header is not padded (60 bytes)', async () => {
    const json = '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}';
    expect(json.length).toBe(60);
    const f = await parseSafetensors(handBuilt(json, new Uint8Array(new Int32Array([1, -2, 3, 2147483647]).buffer), false));
    expect(f.names).toEqual(['test']);
    expect(f.info('test')).toEqual({ dtype: 'I32', shape: [2, 2], byteLength: 16 });
    expect(Array.from((await f.read('test')) as Int32Array)).toEqual([1, -2, 3, 2147483647]);
    expect(f.metadata).toEqual({});
  });

  it('reads header entries listed in any order (sorted by offset, as the reference reader does)', async () => {
    const json = '{"y":{"dtype":"U8","shape":[2],"data_offsets":[4,6]},"__metadata__":{"k":"v"},"x":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}';
    const f = await parseSafetensors(handBuilt(json, new Uint8Array([0, 0, 0xc0, 0x3f, 9, 8])));
    expect(f.names).toEqual(['x', 'y']);
    expect(f.metadata).toEqual({ k: 'v' });
    expect(Array.from((await f.read('x')) as Float32Array)).toEqual([1.5]);
    expect(Array.from((await f.read('y')) as Uint8Array)).toEqual([9, 8]);
  });

  it('places every tensor at an offset aligned to its dtype size', () => {
    const rng = makeRng(11);
    for (let trial = 0; trial < 50; trial++) {
      const tensors: Record<string, TensorToWrite> = {};
      for (let i = 0; i < 1 + rng.int(6); i++) {
        const dtype = rng.pick(ST_DTYPES);
        const n = rng.int(5);
        tensors[`t${i}`] = { dtype, shape: [n], data: new Uint8Array(n * dtypeByteSize(dtype)) };
      }
      const bytes = serializeSafetensors(tensors);
      const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
      expect(n % 8).toBe(0);
      const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString()) as Record<string, { dtype: StDtype; data_offsets: [number, number] }>;
      for (const info of Object.values(header)) expect((8 + n + info.data_offsets[0]) % dtypeByteSize(info.dtype)).toBe(0);
    }
  });
});

function randomTensor(rng: ReturnType<typeof makeRng>, dtype: StDtype, shape: number[]): TensorToWrite {
  let n = 1;
  for (const d of shape) n *= d;
  const bytes = new Uint8Array(n * dtypeByteSize(dtype));
  for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
  if (dtype === 'BOOL') for (let i = 0; i < bytes.length; i++) bytes[i] &= 1;
  return { dtype, shape, data: bytes };
}

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('write → read round trip is bit-exact', () => {
  const shapes = [[], [0], [1], [3, 5], [2, 3, 4], [0, 7], [1000]];
  function allDtypes(seed: number): Map<string, TensorToWrite> {
    const rng = makeRng(seed);
    const m = new Map<string, TensorToWrite>();
    for (const dtype of ST_DTYPES) for (const [i, shape] of shapes.entries()) m.set(`model.${dtype.toLowerCase()}.${i}.weight`, randomTensor(rng, dtype, shape));
    return m;
  }

  it('single file: every dtype and shape, raw values identical, metadata kept', async () => {
    await withTempDir(async (dir) => {
      const tensors = allDtypes(21);
      const path = join(dir, 'model.safetensors');
      const res = await writeSafetensors(path, tensors, { metadata: { format: 'pt', note: 'ünïcode ✓' } });
      expect(res).toEqual({ files: [path], indexPath: null, totalBytes: [...tensors.values()].reduce((s, t) => s + (t.data as Uint8Array).length, 0) });
      const f = await openSafetensors(path);
      expect(new Set(f.names)).toEqual(new Set(tensors.keys()));
      expect(f.metadata).toEqual({ format: 'pt', note: 'ünïcode ✓' });
      for (const [name, t] of tensors) {
        expect(f.info(name)).toEqual({ dtype: t.dtype, shape: t.shape, byteLength: (t.data as Uint8Array).length });
        const got = await f.read(name);
        expect(got.constructor.name).toBe({ F64: 'Float64Array', F32: 'Float32Array', F16: 'Uint16Array', BF16: 'Uint16Array', I64: 'BigInt64Array', I32: 'Int32Array', I16: 'Int16Array', I8: 'Int8Array', U8: 'Uint8Array', BOOL: 'Uint8Array' }[t.dtype]);
        expect(sameBytes(got, t.data as Uint8Array), name).toBe(true);
      }
      await f.close();
      // the file on disk equals the in-memory serialisation
      const disk = await readFile(path);
      expect(disk.equals(Buffer.from(serializeSafetensors(tensors, { metadata: { format: 'pt', note: 'ünïcode ✓' } })))).toBe(true);
    });
  });

  it('sharded: Hugging Face names and index, each shard a valid file, same bytes back', async () => {
    await withTempDir(async (dir) => {
      const tensors = allDtypes(22);
      const path = join(dir, 'model.safetensors');
      const progress: number[] = [];
      const res = await writeSafetensors(path, tensors, { maxShardBytes: 8000, metadata: { format: 'pt' }, onProgress: (p) => progress.push(p.bytesWritten) });
      const total = [...tensors.values()].reduce((s, t) => s + (t.data as Uint8Array).length, 0);
      const count = res.files.length;
      expect(count).toBeGreaterThan(2);
      expect(res.files.map((f) => f.slice(dir.length + 1))).toEqual(Array.from({ length: count }, (_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.safetensors`));
      expect(res.indexPath).toBe(join(dir, 'model.safetensors.index.json'));
      expect(progress.at(-1)).toBe(total);
      expect((await readdir(dir)).sort()).toEqual([...res.files.map((f) => f.slice(dir.length + 1)), 'model.safetensors.index.json'].sort());

      const indexText = await readFile(res.indexPath!, 'utf8');
      const index = JSON.parse(indexText) as { metadata: { total_size: number }; weight_map: Record<string, string> };
      expect(Object.keys(index)).toEqual(['metadata', 'weight_map']);
      expect(index.metadata).toEqual({ total_size: total });
      expect(Object.keys(index.weight_map)).toEqual([...tensors.keys()].sort());
      expect(indexText.endsWith('}\n')).toBe(true);
      // shards follow the caller's order and respect the limit (unless one tensor alone exceeds it)
      for (const file of res.files) {
        const shard = await openSafetensors(file);
        const size = shard.names.reduce((s, n) => s + shard.info(n).byteLength, 0);
        expect(size <= 8000 || shard.names.length === 1).toBe(true);
        for (const n of shard.names) expect(index.weight_map[n]).toBe(file.slice(dir.length + 1));
        expect(shard.metadata).toEqual({ format: 'pt' });
        await shard.close();
      }
      for (const target of [dir, res.indexPath!]) {
        const ckpt = await openCheckpoint(target);
        expect(ckpt.files.length).toBe(count);
        expect([...ckpt.names].sort()).toEqual([...tensors.keys()].sort());
        expect(ckpt.indexMetadata).toEqual({ total_size: total });
        for (const [name, t] of tensors) expect(sameBytes(await ckpt.read(name), t.data as Uint8Array), name).toBe(true);
        await ckpt.close();
      }
    });
  });

  it('stays single-file when everything fits, and splits like huggingface_hub otherwise', async () => {
    await withTempDir(async (dir) => {
      const t = (n: number): TensorToWrite => ({ dtype: 'U8', shape: [n], data: new Uint8Array(n).fill(n % 256) });
      const one = await writeSafetensors(join(dir, 'a.safetensors'), { x: t(10), y: t(10) }, { maxShardBytes: 20 });
      expect(one.indexPath).toBeNull();
      // order x(8) y(8) big(30) z(5) w(9), limit 16: [x y] | [big] alone, appended when met | [z w] would be 14 → fits
      const res = await writeSafetensors(join(dir, 'b.safetensors'), new Map([['x', t(8)], ['y', t(8)], ['big', t(30)], ['z', t(5)], ['w', t(9)]]), { maxShardBytes: 16 });
      const index = JSON.parse(await readFile(res.indexPath!, 'utf8')) as { weight_map: Record<string, string> };
      expect(index.weight_map).toEqual({
        x: 'b-00002-of-00003.safetensors',
        y: 'b-00002-of-00003.safetensors',
        big: 'b-00001-of-00003.safetensors',
        z: 'b-00003-of-00003.safetensors',
        w: 'b-00003-of-00003.safetensors',
      });
    });
  });

  it('converts Float32Array values to BF16 / F16 on write (round to nearest even)', async () => {
    const vals = new Float32Array([1, -2.5, 3.14159, 1e-3, 65504, 1e5]);
    const f = await parseSafetensors(serializeSafetensors({ b: { dtype: 'BF16', shape: [6], data: vals }, h: { dtype: 'F16', shape: [2, 3], data: vals } }));
    expect(Array.from((await f.read('b')) as Uint16Array)).toEqual(Array.from(f32ToBf16(vals)));
    expect(Array.from((await f.read('h')) as Uint16Array)).toEqual([0x3c00, 0xc100, 0x4248, 0x1419, 0x7bff, 0x7c00]);
  });

  it('writes lazily produced data (one tensor in memory at a time)', async () => {
    await withTempDir(async (dir) => {
      const calls: string[] = [];
      const lazy = (name: string, v: number): TensorToWrite => ({ dtype: 'F32', shape: [4], data: async () => (calls.push(name), new Float32Array(4).fill(v)) });
      await writeSafetensors(join(dir, 'm.safetensors'), { a: lazy('a', 1), b: lazy('b', 2) });
      expect(calls).toEqual(['a', 'b']);
      const f = await openSafetensors(join(dir, 'm.safetensors'));
      expect(Array.from(await f.read('b', { as: 'float32' }))).toEqual([2, 2, 2, 2]);
      await f.close();
    });
  });
});

describe('atomic writes', () => {
  it('a failing write leaves neither a file under the final name nor a temporary file', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'model.safetensors');
      const failing = { a: { dtype: 'F32' as const, shape: [2], data: new Float32Array(2) }, b: { dtype: 'F32' as const, shape: [2], data: () => Promise.reject(new Error('disk on fire')) } };
      await expect(writeSafetensors(path, failing)).rejects.toThrow('disk on fire');
      expect(await readdir(dir)).toEqual([]);
      await expect(writeSafetensors(path, failing, { maxShardBytes: 8 })).rejects.toThrow('disk on fire');
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it('a failing overwrite keeps the previous file intact', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'model.safetensors');
      await writeSafetensors(path, { a: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) } });
      const before = await readFile(path);
      await expect(writeSafetensors(path, { a: { dtype: 'U8', shape: [3], data: () => { throw new Error('stop'); } } })).rejects.toThrow('stop');
      expect((await readFile(path)).equals(before)).toBe(true);
      expect(await readdir(dir)).toEqual(['model.safetensors']);
    });
  });

  it('a process killed mid-write leaves no file under the final name', async () => {
    await withTempDir(async (dir) => {
      const { spawnSync } = await import('node:child_process');
      const script = join(dir, 'kill.mts');
      const src = new URL('../src/index.ts', import.meta.url).pathname;
      await writeFile(
        script,
        `import { writeSafetensors } from ${JSON.stringify(src)};
         await writeSafetensors(${JSON.stringify(join(dir, 'model.safetensors'))}, {
           a: { dtype: 'U8', shape: [1 << 20], data: new Uint8Array(1 << 20) },
           b: { dtype: 'U8', shape: [4], data: () => { process.kill(process.pid, 'SIGKILL'); return new Uint8Array(4); } },
         });`,
      );
      const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', script], { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8' });
      expect(r.stderr).not.toMatch(/Error/);
      expect(r.signal).toBe('SIGKILL');
      const left = (await readdir(dir)).filter((f) => f !== 'kill.mts');
      expect(left).not.toContain('model.safetensors');
      expect(left.length).toBe(1); // the abandoned temporary file, hidden and not named *.safetensors
      expect(left[0]).toMatch(/^\.model\.safetensors\..*\.tmp$/);
      expect((await stat(join(dir, left[0]))).size).toBeGreaterThan(0);
      await expect(openCheckpoint(dir)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });
});
