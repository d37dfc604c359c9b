// The byte layout the reference writer produces: tensors sorted by dtype alignment (largest first) then by
// name (UTF-8 byte order), contiguous from offset 0; the JSON header lists `__metadata__` first and the
// tensors in data order, and is padded with spaces to a multiple of 8 bytes.
import { CheckpointError } from './errors';
import type { StDtype } from './dtypes';

/** Rank of each dtype in the reference implementation's enum (higher = placed first). */
const DTYPE_RANK: Record<StDtype, number> = { BOOL: 0, U8: 1, I8: 2, I16: 5, F16: 7, BF16: 8, I32: 9, F32: 11, F64: 12, I64: 13 };

const encoder = new TextEncoder();

export interface LaidOutTensor<T> {
  readonly item: T;
  readonly begin: number;
  readonly end: number;
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Orders tensors as the reference writer does and assigns their data offsets. */
export function layOut<T extends { name: string; dtype: StDtype; byteLength: number }>(tensors: readonly T[]): { order: LaidOutTensor<T>[]; dataBytes: number } {
  const sorted = [...tensors].sort((a, b) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || compareUtf8(a.name, b.name));
  let offset = 0;
  const order = sorted.map((item) => {
    const begin = offset;
    offset += item.byteLength;
    return { item, begin, end: offset };
  });
  return { order, dataBytes: offset };
}

/** Checks that metadata is an object of strings (the only thing safetensors allows). */
export function checkMetadata(metadata: unknown, target: string): Record<string, string> | undefined {
  if (metadata === undefined || metadata === null) return undefined;
  if (typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new CheckpointError('BAD_METADATA', `writing ${target}: metadata must be an object of strings`, { path: target });
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new CheckpointError('BAD_METADATA', `writing ${target}: metadata.${k} must be a string, found ${typeof v}`, { path: target });
  }
  return metadata as Record<string, string>;
}

/** The 8-byte length prefix plus the padded JSON header, ready to be followed by the data section. */
export function encodeHeader<T extends { name: string; dtype: StDtype; shape: readonly number[] }>(
  order: readonly LaidOutTensor<T>[],
  metadata: Record<string, string> | undefined,
): Uint8Array {
  // Built by hand: JSON.stringify of an object would move integer-like names to the front.
  const parts: string[] = [];
  if (metadata) {
    parts.push(`"__metadata__":{${Object.entries(metadata).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  }
  for (const { item, begin, end } of order) {
    parts.push(`${JSON.stringify(item.name)}:{"dtype":"${item.dtype}","shape":[${item.shape.join(',')}],"data_offsets":[${begin},${end}]}`);
  }
  const json = encoder.encode(`{${parts.join(',')}}`);
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}
