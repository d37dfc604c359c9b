import { describe, it, expect } from 'vitest';
import { mkdir, open, writeFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { openCheckpoint, openSafetensors, parseSafetensors, serializeSafetensors, writeSafetensors, CheckpointError } from '@mil/checkpoint';
import { expectCode } from './helpers/expect-code';
import { withTempDir } from './helpers/tmp';

/** A file with the given header text (no padding added) and data section. */
function file(header: string | object, data: Uint8Array | number = 0): Uint8Array {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = Buffer.alloc(8 + text.length + body.length);
  out.writeBigUInt64LE(BigInt(text.length), 0);
  text.copy(out, 8);
  out.set(body, 8 + text.length);
  return new Uint8Array(out);
}
const t = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });
const open_ = (bytes: Uint8Array, opts = {}) => parseSafetensors(bytes, { label: 'bad.safetensors', ...opts });

describe('header validation: each rule has its own code and a message naming the tensor', () => {
  it('HEADER_TOO_SMALL: fewer than 8 bytes', async () => {
    await expectCode(open_(new Uint8Array(5)), 'HEADER_TOO_SMALL', /bad\.safetensors.*5 bytes/);
    await expectCode(open_(new Uint8Array(0)), 'HEADER_TOO_SMALL');
  });

  it('HEADER_TOO_LARGE: a length above the cap, or above 2^32, allocates nothing', async () => {
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 60n, true);
    await expectCode(open_(huge), 'HEADER_TOO_LARGE', /1152921504606846976/);
    const ok = file({ a: t('U8', [2], 0, 2) }, 2);
    await expectCode(open_(ok, { maxHeaderBytes: 16 }), 'HEADER_TOO_LARGE', /cap of 16/);
    new DataView(huge.buffer).setBigUint64(0, 100_000_001n, true);
    await expectCode(open_(huge), 'HEADER_TOO_LARGE');
  });

  it('HEADER_OUT_OF_BOUNDS: a length that runs past the end of the file', async () => {
    const bytes = file('{}', 0);
    new DataView(bytes.buffer).setBigUint64(0, 1000n, true);
    await expectCode(open_(bytes), 'HEADER_OUT_OF_BOUNDS', /1000 runs past the end of the 10-byte file/);
  });

  it('BAD_HEADER: bad JSON, not an object, no leading "{", invalid UTF-8', async () => {
    await expectCode(open_(file('{"a": ', 0)), 'BAD_HEADER', /not valid JSON/);
    await expectCode(open_(file(' {}', 0)), 'BAD_HEADER', /start with '\{'/);
    await expectCode(open_(file('[1,2]', 0)), 'BAD_HEADER', /start with/);
    await expectCode(open_(file('{}{', 0)), 'BAD_HEADER');
    const bad = file('{"\u00e9":1}', 0);
    bad[10] = 0xff; // break the UTF-8 sequence of é
    await expectCode(open_(bad), 'BAD_HEADER', /UTF-8/);
    const bom = file('\ufeff{}', 0);
    await expectCode(open_(bom), 'BAD_HEADER');
  });

  it('BAD_TENSOR_INFO: missing or malformed dtype / shape / data_offsets', async () => {
    await expectCode(open_(file({ w: 3 })), 'BAD_TENSOR_INFO', /"w"/);
    await expectCode(open_(file({ w: { shape: [1], data_offsets: [0, 1] } }, 1)), 'BAD_TENSOR_INFO', /dtype/);
    await expectCode(open_(file({ w: { dtype: 'U8', data_offsets: [0, 1] } }, 1)), 'BAD_TENSOR_INFO', /shape/);
    await expectCode(open_(file({ w: t('U8', [-1], 0, 1) }, 1)), 'BAD_TENSOR_INFO', /shape/);
    await expectCode(open_(file({ w: t('U8', [1.5], 0, 1) }, 1)), 'BAD_TENSOR_INFO');
    await expectCode(open_(file({ w: { dtype: 'U8', shape: [1], data_offsets: [0] } }, 1)), 'BAD_TENSOR_INFO', /data_offsets/);
    await expectCode(open_(file({ w: { dtype: 'U8', shape: [1], data_offsets: [0, '1'] } }, 1)), 'BAD_TENSOR_INFO');
  });

  it('BAD_METADATA: __metadata__ must map strings to strings', async () => {
    await expectCode(open_(file({ __metadata__: { format: 1 } })), 'BAD_METADATA', /format/);
    await expectCode(open_(file({ __metadata__: [] })), 'BAD_METADATA');
    const ok = await open_(file({ __metadata__: null }));
    expect(ok.metadata).toEqual({});
  });

  it('UNKNOWN_DTYPE: names the dtype and lists the supported ones', async () => {
    await expectCode(open_(file({ w: t('F8_E4M3', [1], 0, 1) }, 1)), 'UNKNOWN_DTYPE', /"F8_E4M3", which is a safetensors dtype this package does not support; expected one of F64/);
    await expectCode(open_(file({ w: t('Q4_K', [1], 0, 1) }, 1)), 'UNKNOWN_DTYPE', /not a safetensors dtype/);
  });

  it('SIZE_MISMATCH: shape × dtype size must equal the byte range', async () => {
    await expectCode(open_(file({ w: t('F32', [2, 2], 0, 12) }, 12)), 'SIZE_MISMATCH', /"w": shape \[2, 2\] × F32 needs 16 bytes but data_offsets \[0, 12\] span 12/);
    await expectCode(open_(file({ w: t('U8', [2 ** 30, 2 ** 30, 2 ** 30], 0, 8) }, 8)), 'SIZE_MISMATCH', /too large/);
  });

  it('BAD_OFFSETS: an end before the beginning', async () => {
    await expectCode(open_(file({ w: t('U8', [0], 4, 0) }, 4)), 'BAD_OFFSETS', /\[4, 0\]/);
  });

  it('OFFSET_OUT_OF_BOUNDS: a range beyond the data section', async () => {
    await expectCode(open_(file({ w: t('F32', [4], 0, 16) }, 8)), 'OFFSET_OUT_OF_BOUNDS', /8-byte data section/);
  });

  it('OVERLAPPING_RANGES and DATA_GAP: ranges must tile the data section', async () => {
    await expectCode(open_(file({ a: t('F32', [2], 0, 8), b: t('F32', [1], 4, 8) }, 8)), 'OVERLAPPING_RANGES', /"b".*overlaps "a"/);
    await expectCode(open_(file({ a: t('F32', [1], 0, 4), b: t('F32', [1], 8, 12) }, 12)), 'DATA_GAP', /bytes 4\.\.8.*"b"/);
    await expectCode(open_(file({ a: t('F32', [1], 4, 8) }, 8)), 'DATA_GAP', /bytes 0\.\.4/);
    // zero-sized tensors may share an offset
    const ok = await open_(file({ a: t('F32', [0], 4, 4), b: t('F32', [1], 0, 4), c: t('U8', [0], 4, 4) }, 4));
    expect([...ok.names].sort()).toEqual(['a', 'b', 'c']);
  });

  it('TRAILING_DATA: bytes after the last tensor', async () => {
    await expectCode(open_(file({ a: t('U8', [2], 0, 2) }, 3)), 'TRAILING_DATA', /end at byte 2 .* has 3 bytes/);
  });

  it('DUPLICATE_TENSOR: a name twice in the header (JSON.parse would silently keep one)', async () => {
    await expectCode(open_(file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', 2)), 'DUPLICATE_TENSOR', /"a"/);
    // the same key nested deeper, or inside strings, is not a duplicate
    const ok = await open_(file('{"__metadata__":{"a":"{\\"a\\":1}","b":"a"},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1));
    expect(ok.names).toEqual(['a']);
  });
});

describe('reading', () => {
  const bytes = serializeSafetensors({ w: { dtype: 'F32', shape: [3], data: new Float32Array([1, NaN, 2]) }, i: { dtype: 'I32', shape: [1], data: new Int32Array([5]) } });

  it('TENSOR_NOT_FOUND for an unknown name', async () => {
    const f = await open_(bytes);
    await expectCode(f.read('nope'), 'TENSOR_NOT_FOUND', /"nope"/);
    await expectCode(() => f.info('nope'), 'TENSOR_NOT_FOUND');
    expect(f.has('w')).toBe(true);
    expect(f.has('nope')).toBe(false);
  });

  it('NON_FINITE only when asked, naming tensor and element', async () => {
    const f = await open_(bytes);
    expect(Number.isNaN((await f.read('w'))[1] as number)).toBe(true);
    await expectCode(f.read('w', { checkFinite: true }), 'NON_FINITE', /"w" \(F32\) has a non-finite value at element 1 \(NaN\)/);
    await expectCode(f.read('w', { as: 'float16', checkFinite: true }), 'NON_FINITE');
    expect(Array.from((await f.read('i', { checkFinite: true })) as Int32Array)).toEqual([5]);
    const big = await open_(serializeSafetensors({ b: { dtype: 'F32', shape: [2], data: new Float32Array([1, 1e6]) } }));
    await expectCode(big.read('b', { as: 'float16', checkFinite: true }), 'NON_FINITE', /after conversion to float16/);
  });

  it('UNSUPPORTED_CONVERSION for an unknown output type', async () => {
    const f = await open_(bytes);
    await expectCode(f.read('w', { as: 'int8' as 'raw' }), 'UNSUPPORTED_CONVERSION', /'raw', 'float32' or 'float16'/);
  });

  it('BAD_OPTION for an output array of the wrong type or size', async () => {
    const f = await open_(bytes);
    await expectCode(f.read('w', { as: 'float32', out: new Float32Array(2) }), 'BAD_OPTION', /Float32Array of at least 3/);
    await expectCode(f.read('w', { out: new Uint16Array(3) }), 'BAD_OPTION');
  });

  it('CLOSED after close()', async () => {
    const f = await open_(bytes);
    await f.close();
    await expectCode(f.read('w'), 'CLOSED');
  });

  it('NOT_FOUND / IO_ERROR for missing files and folders', async () => {
    await withTempDir(async (dir) => {
      const e = await expectCode(openSafetensors(join(dir, 'missing.safetensors')), 'NOT_FOUND');
      expect(e.path).toBe(join(dir, 'missing.safetensors'));
      expect(e.cause).toBeDefined();
      await expectCode(openSafetensors(dir), 'NOT_REGULAR_FILE', /is a folder, expected a regular file/);
      await expectCode(openCheckpoint(join(dir, 'nope')), 'NOT_FOUND');
      await expectCode(openCheckpoint(dir), 'NOT_FOUND', /model\.safetensors does not exist, and the folder has no other \.safetensors file/);
    });
  });

  it('TRUNCATED when the file shrinks after it was opened', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'm.safetensors');
      await writeFile(path, serializeSafetensors({ a: { dtype: 'U8', shape: [100], data: new Uint8Array(100).fill(3) } }));
      const f = await openSafetensors(path);
      await truncate(path, 120);
      await expectCode(f.read('a'), 'TRUNCATED', /file ended/);
      await f.close();
    });
  });
});

describe('sharded checkpoints', () => {
  async function sharded(dir: string): Promise<void> {
    await writeSafetensors(join(dir, 'model.safetensors'), { a: { dtype: 'U8', shape: [8], data: new Uint8Array(8) }, b: { dtype: 'U8', shape: [8], data: new Uint8Array(8).fill(1) } }, { maxShardBytes: 8 });
  }

  it('BAD_INDEX: bad JSON, no weight_map, paths leaving the folder', async () => {
    await withTempDir(async (dir) => {
      await sharded(dir);
      const index = join(dir, 'model.safetensors.index.json');
      await writeFile(index, '{"weight_map": ');
      await expectCode(openCheckpoint(dir), 'BAD_INDEX', /not valid JSON/);
      await writeFile(index, '{"metadata": {}}');
      await expectCode(openCheckpoint(index), 'BAD_INDEX', /weight_map/);
      await writeFile(index, JSON.stringify({ weight_map: { a: '../model-00001-of-00002.safetensors' } }));
      await expectCode(openCheckpoint(dir), 'BAD_INDEX', /not a file inside/);
      await writeFile(index, JSON.stringify({ weight_map: { a: '/etc/passwd' } }));
      await expectCode(openCheckpoint(dir), 'BAD_INDEX');
      await writeFile(index, JSON.stringify({ weight_map: { a: 7 } }));
      await expectCode(openCheckpoint(dir), 'BAD_INDEX');
    });
  });

  it('INDEX_MISMATCH: the index puts a tensor in a shard that lacks it; NOT_FOUND for a missing shard', async () => {
    await withTempDir(async (dir) => {
      await sharded(dir);
      const index = join(dir, 'model.safetensors.index.json');
      await writeFile(index, JSON.stringify({ weight_map: { a: 'model-00002-of-00002.safetensors' } }));
      await expectCode(openCheckpoint(dir), 'INDEX_MISMATCH', /"a" in .*model-00002-of-00002/);
      await writeFile(index, JSON.stringify({ weight_map: { a: 'model-00003-of-00003.safetensors' } }));
      await expectCode(openCheckpoint(dir), 'NOT_FOUND');
    });
  });

  it('DUPLICATE_TENSOR: the same name in two files without an index', async () => {
    await withTempDir(async (dir) => {
      await mkdir(join(dir, 'x'));
      const one = serializeSafetensors({ a: { dtype: 'U8', shape: [1], data: new Uint8Array(1) } });
      await writeFile(join(dir, 'x', 'one.safetensors'), one);
      await writeFile(join(dir, 'x', 'two.safetensors'), one);
      await expectCode(openCheckpoint(join(dir, 'x')), 'DUPLICATE_TENSOR', /"a" is in both/);
      // distinct names across index-less files are merged
      await writeFile(join(dir, 'x', 'two.safetensors'), serializeSafetensors({ b: { dtype: 'U8', shape: [1], data: new Uint8Array([9]) } }));
      const c = await openCheckpoint(join(dir, 'x'));
      expect(c.names).toEqual(['a', 'b']);
      expect(c.fileOf('b')).toBe(join(dir, 'x', 'two.safetensors'));
      await c.close();
    });
  });

  it('opening a shard directly, or an index, gives the same reader interface', async () => {
    await withTempDir(async (dir) => {
      await sharded(dir);
      const shard = await openCheckpoint(join(dir, 'model-00002-of-00002.safetensors'));
      expect(shard.names).toEqual(['b']);
      expect(shard.indexMetadata).toBeNull();
      await shard.close();
      const fh = await open(join(dir, 'model.safetensors.index.json'));
      await fh.close();
    });
  });
});

describe('writer validation', () => {
  it('BAD_TENSOR, UNKNOWN_DTYPE, SIZE_MISMATCH, BAD_METADATA, BAD_OPTION, DUPLICATE_TENSOR', async () => {
    await expectCode(() => serializeSafetensors({ __metadata__: { dtype: 'U8', shape: [1], data: new Uint8Array(1) } }), 'BAD_TENSOR', /reserved/);
    await expectCode(() => serializeSafetensors({ a: { dtype: 'U8', shape: [-1], data: new Uint8Array(1) } }), 'BAD_TENSOR', /shape/);
    await expectCode(() => serializeSafetensors({ a: { dtype: 'U8', shape: [1], data: [1] as unknown as Uint8Array } }), 'BAD_TENSOR', /typed array/);
    await expectCode(() => serializeSafetensors({ a: { dtype: 'U8', shape: [1], data: () => new Uint8Array(1) } }), 'BAD_TENSOR', /lazy/);
    await expectCode(() => serializeSafetensors({ a: { dtype: 'F8' as 'F32', shape: [1], data: new Uint8Array(1) } }), 'UNKNOWN_DTYPE', /"F8"/);
    await expectCode(() => serializeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Float32Array(3) } }), 'SIZE_MISMATCH', /needs 8 bytes but data has 12/);
    await expectCode(() => serializeSafetensors({ a: { dtype: 'BF16', shape: [2], data: new Float32Array(1) } }), 'SIZE_MISMATCH', /Float32Array to convert/);
    await expectCode(() => serializeSafetensors({}, { metadata: { n: 1 as unknown as string } }), 'BAD_METADATA', /metadata\.n/);
    await expectCode(writeSafetensors('/tmp/never-written.safetensors', {}, { maxShardBytes: 0 }), 'BAD_OPTION', /maxShardBytes/);
    const dup: [string, { dtype: 'U8'; shape: number[]; data: Uint8Array }][] = [
      ['a', { dtype: 'U8', shape: [1], data: new Uint8Array(1) }],
      ['a', { dtype: 'U8', shape: [1], data: new Uint8Array(1) }],
    ];
    await expectCode(() => serializeSafetensors(dup), 'DUPLICATE_TENSOR');
  });

  it('lazily produced data is checked too, and the partial file removed', async () => {
    await withTempDir(async (dir) => {
      const e = await expectCode(writeSafetensors(join(dir, 'm.safetensors'), { a: { dtype: 'F32', shape: [4], data: () => new Float32Array(3) } }), 'SIZE_MISMATCH');
      expect(e).toBeInstanceOf(CheckpointError);
      const { readdir } = await import('node:fs/promises');
      expect(await readdir(dir)).toEqual([]);
    });
  });
});
