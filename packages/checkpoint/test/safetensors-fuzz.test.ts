import { describe, it, expect } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, openSafetensors, parseSafetensors, serializeSafetensors, ST_DTYPES, dtypeByteSize, type SafetensorsFile, type TensorToWrite } from '@mil/checkpoint';
import { oracleParse } from './helpers/oracle-safetensors';
import { makeRng } from './helpers/rng';
import { withTempDir } from './helpers/tmp';

type Rng = ReturnType<typeof makeRng>;

function validFile(rng: Rng): Uint8Array {
  const tensors: Record<string, TensorToWrite> = {};
  const count = 1 + rng.int(5);
  for (let i = 0; i < count; i++) {
    const dtype = rng.pick(ST_DTYPES);
    const shape = Array.from({ length: rng.int(4) }, () => rng.int(5));
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Uint8Array(n * dtypeByteSize(dtype)).map(() => rng.int(256));
    tensors[rng.pick(['w', 'model.layers.0.mlp.up_proj.weight', 'ü', '0', 'b', `t${i}`]) + i] = { dtype, shape, data };
  }
  return serializeSafetensors(tensors, rng.next() < 0.5 ? { metadata: { format: 'pt', k: rng.pick(['v', '', '{"x":1}']) } } : {});
}

const JSONISH = Buffer.from('{}[]:,"0123456789-.eE \\tnul');

function mutate(src: Uint8Array, rng: Rng): Uint8Array {
  const b = Buffer.from(src);
  if (b.length < 9) return Buffer.concat([b, Buffer.from([rng.int(256)])]);
  // after an earlier mutation the length field may point anywhere: clamp to the bytes we have
  const headerEnd = Math.min(b.length, 8 + Number(b.readBigUInt64LE(0) & 0xffffffffn));
  const inHeader = (): number => 8 + rng.int(Math.max(1, headerEnd - 8));
  switch (rng.int(11)) {
    case 0: { // flip one bit anywhere
      const i = rng.int(b.length);
      b[i] ^= 1 << rng.int(8);
      return b;
    }
    case 1: // random byte in the header
      b[inHeader()] = rng.int(256);
      return b;
    case 2: // a JSON-significant character in the header
      b[inHeader()] = JSONISH[rng.int(JSONISH.length)];
      return b;
    case 3: // truncate
      return b.subarray(0, rng.int(b.length));
    case 4: // append
      return Buffer.concat([b, Buffer.from(Array.from({ length: 1 + rng.int(16) }, () => rng.int(256)))]);
    case 5: { // wrong header length
      const delta = rng.pick([-8, -1, 1, 8, 2 ** 20, -(headerEnd - 8)]);
      b.writeBigUInt64LE(BigInt(Math.max(0, headerEnd - 8 + delta)), 0);
      if (rng.next() < 0.2) b.writeUInt32LE(rng.u32(), 4);
      return b;
    }
    case 6: { // change one digit of the header (shapes and offsets)
      const digits: number[] = [];
      for (let i = 8; i < headerEnd; i++) if (b[i] >= 0x30 && b[i] <= 0x39) digits.push(i);
      if (digits.length) b[rng.pick(digits)] = 0x30 + rng.int(10);
      return b;
    }
    case 7: { // insert or delete one header byte, fixing the length so the rest parses
      const i = inHeader();
      const out = rng.next() < 0.5 ? Buffer.concat([b.subarray(0, i), Buffer.from([JSONISH[rng.int(JSONISH.length)]]), b.subarray(i)]) : Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
      if (rng.next() < 0.8) out.writeBigUInt64LE(BigInt(Math.max(0, headerEnd - 8 + (out.length - b.length))), 0);
      return out;
    }
    case 8: { // rename a dtype
      const text = b.subarray(8, headerEnd).toString('latin1');
      const m = [...text.matchAll(/"dtype":"([A-Z0-9]+)"/g)];
      if (m.length) {
        const hit = rng.pick(m);
        const rep = rng.pick((ST_DTYPES as readonly string[]).filter((d) => d.length === hit[1].length).concat(['U16', 'F8', 'XX'].filter((d) => d.length === hit[1].length)));
        if (rep) b.write(rep, 8 + hit.index! + 9, 'latin1');
      }
      return b;
    }
    case 9: { // move one tensor's range (both offsets), re-encoding the header: gaps and overlaps
      try {
        const header = JSON.parse(b.subarray(8, headerEnd).toString('utf8')) as Record<string, { data_offsets?: number[] }>;
        const names = Object.keys(header).filter((k) => k !== '__metadata__');
        if (!names.length) return b;
        const o = header[rng.pick(names)].data_offsets!;
        const delta = rng.pick([-4, -2, -1, 1, 2, 8]);
        o[0] = Math.max(0, o[0] + delta);
        o[1] = Math.max(0, o[1] + delta);
        const text = Buffer.from(JSON.stringify(header));
        const len = Buffer.alloc(8);
        len.writeBigUInt64LE(BigInt(text.length));
        return Buffer.concat([len, text, b.subarray(headerEnd)]);
      } catch {
        return b;
      }
    }
    default: { // data bytes only: must still load, with exactly those bytes
      for (let k = 0; k < 4 && headerEnd < b.length; k++) b[headerEnd + rng.int(b.length - headerEnd)] = rng.int(256);
      return b;
    }
  }
}

async function loadAll(f: SafetensorsFile): Promise<Map<string, { dtype: string; shape: number[]; bytes: Uint8Array }>> {
  const out = new Map<string, { dtype: string; shape: number[]; bytes: Uint8Array }>();
  for (const name of f.names) {
    const info = f.info(name);
    const raw = await f.read(name);
    out.set(name, { dtype: info.dtype, shape: [...info.shape], bytes: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) });
    if (info.dtype === 'BF16' || info.dtype === 'F16') await f.read(name, { as: 'float32', checkFinite: false });
  }
  return out;
}

type Outcome = { kind: 'ok'; tensors: Map<string, { dtype: string; shape: number[]; bytes: Uint8Array }>; metadata: Record<string, string> } | { kind: 'error'; code: string };

async function run(open: () => Promise<SafetensorsFile>): Promise<Outcome> {
  try {
    const f = await open();
    const tensors = await loadAll(f);
    const metadata = { ...f.metadata };
    await f.close();
    return { kind: 'ok', tensors, metadata };
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw new Error(`uncoded failure: ${String(e)}`, { cause: e });
    return { kind: 'error', code: e.code };
  }
}

function agree(bytes: Uint8Array, outcome: Outcome): string | null {
  const oracle = oracleParse(bytes);
  if (outcome.kind === 'error') return oracle.ok ? `rejected (${outcome.code}) a file the oracle accepts` : null;
  if (!oracle.ok) return `accepted a file the oracle rejects (${oracle.why})`;
  if (JSON.stringify(oracle.metadata) !== JSON.stringify(outcome.metadata)) return 'metadata differs';
  if ([...oracle.tensors.keys()].sort().join('|') !== [...outcome.tensors.keys()].sort().join('|')) return 'names differ';
  for (const [name, t] of oracle.tensors) {
    const got = outcome.tensors.get(name)!;
    if (got.dtype !== t.dtype || got.shape.join(',') !== t.shape.join(',') || !Buffer.from(got.bytes).equals(Buffer.from(t.bytes))) return `tensor ${name} differs`;
  }
  return null;
}

describe('fuzz: random mutations of valid files either load exactly as the oracle reads them or fail with a coded error', () => {
  it('10000 in-memory mutations (seeded)', async () => {
    const rng = makeRng(20261129);
    const bases = Array.from({ length: 40 }, () => validFile(rng));
    const codes = new Map<string, number>();
    let loaded = 0;
    const problems: string[] = [];
    for (let i = 0; i < 10000; i++) {
      const base = bases[i % bases.length];
      let bytes = mutate(base, rng);
      if (rng.next() < 0.15) bytes = mutate(bytes, rng); // sometimes two mutations
      const outcome = await run(() => parseSafetensors(bytes, { label: `case ${i}` }));
      const problem = agree(bytes, outcome);
      if (problem) problems.push(`case ${i}: ${problem}`);
      if (outcome.kind === 'ok') loaded++;
      else codes.set(outcome.code, (codes.get(outcome.code) ?? 0) + 1);
    }
    expect(problems).toEqual([]);
    // the mutations reach many different rules, and many files still load (data-only changes)
    expect(loaded).toBeGreaterThan(1000);
    expect([...codes.keys()].sort()).toEqual(
      expect.arrayContaining(['DATA_GAP', 'OVERLAPPING_RANGES', 'DUPLICATE_TENSOR', 'BAD_TENSOR_INFO', 'HEADER_OUT_OF_BOUNDS', 'HEADER_TOO_LARGE', 'HEADER_TOO_SMALL', 'BAD_HEADER', 'OFFSET_OUT_OF_BOUNDS', 'SIZE_MISMATCH', 'TRAILING_DATA', 'UNKNOWN_DTYPE']),
    );
  });

  it('300 mutations through real files on disk behave the same', async () => {
    const rng = makeRng(7);
    await withTempDir(async (dir) => {
      const problems: string[] = [];
      for (let i = 0; i < 300; i++) {
        const bytes = mutate(validFile(rng), rng);
        const path = join(dir, `f${i}.safetensors`);
        await writeFile(path, bytes);
        const problem = agree(bytes, await run(() => openSafetensors(path)));
        if (problem) problems.push(`file ${i}: ${problem}`);
      }
      expect(problems).toEqual([]);
    });
  });

  it('unmutated files load identically', async () => {
    const rng = makeRng(8);
    for (let i = 0; i < 100; i++) {
      const bytes = validFile(rng);
      const outcome = await run(() => parseSafetensors(bytes));
      expect(outcome.kind).toBe('ok');
      expect(agree(bytes, outcome)).toBeNull();
    }
  });
});
