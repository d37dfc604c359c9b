// Parsing and strict validation of a safetensors header, following the rules of the reference (Rust)
// implementation that Python's `safetensors` uses: u64 LE length ≤ 100 MB, UTF-8 JSON object starting
// with '{', dtype/shape/data_offsets per tensor, and data ranges that tile the data section exactly.
import { CheckpointError } from './errors';
import { dtypeByteSize, isStDtype, type StDtype } from './dtypes';
import { findDuplicateNestedKey, findDuplicateTopLevelKey } from './json-text';

/** The cap of the reference implementation; a longer header is almost surely corrupt. */
export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;

/** dtypes that safetensors defines but this package does not handle. */
const KNOWN_UNSUPPORTED = new Set(['U16', 'U32', 'U64', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64']);

/** Where one tensor lives and what it is. `dataOffset` is relative to the start of the data section. */
export interface TensorEntry {
  readonly name: string;
  readonly dtype: StDtype;
  readonly shape: readonly number[];
  readonly byteLength: number;
  readonly dataOffset: number;
}

export interface ParsedHeader {
  /** Bytes of JSON after the 8-byte length (padding included). */
  readonly headerLength: number;
  /** Absolute file offset of the data section (8 + headerLength). */
  readonly dataStart: number;
  /** Tensors in data (offset) order. */
  readonly entries: readonly TensorEntry[];
  /** `__metadata__`, or null when the file has none. */
  readonly metadata: Readonly<Record<string, string>> | null;
}

/**
 * Reads the u64 little-endian header length from the first 8 bytes and checks it against the file size
 * and the cap, so no allocation is ever sized by an untrusted number.
 */
export function readHeaderLength(first8: Uint8Array, fileSize: number, source: string, maxHeaderBytes: number): number {
  if (fileSize < 8 || first8.length < 8) {
    throw new CheckpointError('HEADER_TOO_SMALL', `${source}: ${fileSize} bytes is too short for a safetensors file (needs an 8-byte header length)`, { path: source });
  }
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (hi !== 0 || n > maxHeaderBytes) {
    throw new CheckpointError('HEADER_TOO_LARGE', `${source}: header length ${hi !== 0 ? `${BigInt(hi) * 2n ** 32n + BigInt(lo)}` : n} exceeds the cap of ${maxHeaderBytes} bytes`, { path: source });
  }
  if (8 + n > fileSize) {
    throw new CheckpointError('HEADER_OUT_OF_BOUNDS', `${source}: header length ${n} runs past the end of the ${fileSize}-byte file`, { path: source });
  }
  return n;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/**
 * Parses and validates the JSON header (the `headerLength` bytes after the length prefix) of a file of
 * `fileSize` bytes. Throws a CheckpointError naming the tensor and the rule it breaks.
 */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, source: string): ParsedHeader {
  const headerLength = headerBytes.length;
  const dataStart = 8 + headerLength;
  const dataSize = fileSize - dataStart;
  const fail = (code: ConstructorParameters<typeof CheckpointError>[0], msg: string, cause?: unknown): never => {
    throw new CheckpointError(code, `${source}: ${msg}`, { path: source, cause });
  };

  let text: string;
  try {
    text = decoder.decode(headerBytes);
  } catch (e) {
    return fail('BAD_HEADER', 'header is not valid UTF-8', e);
  }
  if (!text.startsWith('{')) fail('BAD_HEADER', `header must start with '{', found ${JSON.stringify(text.slice(0, 16))}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail('BAD_HEADER', `header is not valid JSON (${(e as Error).message})`, e);
  }
  if (!isPlainObject(json)) return fail('BAD_HEADER', 'header JSON must be an object');
  const dup = findDuplicateTopLevelKey(text);
  if (dup !== undefined) fail('DUPLICATE_TENSOR', `tensor ${JSON.stringify(dup)} appears twice in the header`);
  const nested = findDuplicateNestedKey(text);
  if (nested !== undefined) fail('BAD_TENSOR_INFO', `${JSON.stringify(nested.parent)} has the field ${JSON.stringify(nested.key)} twice in the header`);

  let metadata: Record<string, string> | null = null;
  const entries: TensorEntry[] = [];
  for (const name of Object.keys(json)) {
    const value = json[name];
    if (name === '__metadata__') {
      if (value === null) continue;
      if (!isPlainObject(value)) return fail('BAD_METADATA', '__metadata__ must be an object of string values');
      metadata = {};
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') fail('BAD_METADATA', `__metadata__.${k} must be a string, found ${typeof v}`);
        metadata[k] = v as string;
      }
      continue;
    }
    const t = JSON.stringify(name);
    if (!isPlainObject(value)) return fail('BAD_TENSOR_INFO', `tensor ${t} must be an object {dtype, shape, data_offsets}`);
    const { dtype, shape, data_offsets: offsets } = value;
    if (typeof dtype !== 'string') return fail('BAD_TENSOR_INFO', `tensor ${t} has no string "dtype"`);
    if (!isStDtype(dtype)) {
      const why = KNOWN_UNSUPPORTED.has(dtype) ? 'is a safetensors dtype this package does not support' : 'is not a safetensors dtype';
      return fail('UNKNOWN_DTYPE', `tensor ${t} has dtype ${JSON.stringify(dtype)}, which ${why}; expected one of F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL`);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) return fail('BAD_TENSOR_INFO', `tensor ${t}: "shape" must be an array of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      return fail('BAD_TENSOR_INFO', `tensor ${t}: "data_offsets" must be [begin, end] with non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) fail('BAD_OFFSETS', `tensor ${t}: data_offsets [${begin}, ${end}] end before they begin`);
    let elements = 1;
    for (const d of shape as number[]) elements *= d;
    const expected = elements * dtypeByteSize(dtype);
    if (!Number.isSafeInteger(expected)) fail('SIZE_MISMATCH', `tensor ${t}: shape [${shape.join(', ')}] is too large to address`);
    if (end - begin !== expected) {
      fail('SIZE_MISMATCH', `tensor ${t}: shape [${shape.join(', ')}] × ${dtype} needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
    }
    if (end > dataSize) fail('OFFSET_OUT_OF_BOUNDS', `tensor ${t}: data_offsets [${begin}, ${end}] run past the ${dataSize}-byte data section`);
    entries.push({ name, dtype, shape: shape as number[], byteLength: expected, dataOffset: begin });
  }

  entries.sort((a, b) => a.dataOffset - b.dataOffset || a.byteLength - b.byteLength);
  let cursor = 0;
  let previous = '';
  for (const e of entries) {
    if (e.dataOffset < cursor) {
      fail('OVERLAPPING_RANGES', `tensor ${JSON.stringify(e.name)} (bytes ${e.dataOffset}..${e.dataOffset + e.byteLength}) overlaps ${JSON.stringify(previous)} (ends at ${cursor})`);
    }
    if (e.dataOffset > cursor) {
      fail('DATA_GAP', `bytes ${cursor}..${e.dataOffset} of the data section belong to no tensor (before ${JSON.stringify(e.name)}); safetensors forbids holes`);
    }
    cursor = e.dataOffset + e.byteLength;
    previous = e.name;
  }
  if (cursor !== dataSize) fail('TRAILING_DATA', `tensors end at byte ${cursor} of the data section but it has ${dataSize} bytes`);
  return { headerLength, dataStart, entries, metadata };
}
