// CUDA fat binaries inside a shared library: list the per-GPU-architecture kernel images and blank the ones a
// given GPU never loads. The pinned CUDA provider (229 MB) carries SASS for sm_75 … sm_120; an H200 (sm_90) reads
// only its own, so zeroing the rest in place (offsets unchanged, nothing relinked) leaves a file that compresses from
// 165 MB to 38 MB of xz — small enough to carry to a machine that cannot reach the npm registry.
import { GraphError } from '../errors';

/** The magic number that opens a fat-binary container (little-endian 0xBA55ED50). */
const FATBIN_MAGIC = 0xba55ed50;
const CONTAINER_HEADER = 16;
/** Bytes of an entry header up to (and including) its architecture field. */
const ENTRY_MIN_HEADER = 32;

/** One kernel image in a fat binary. */
export interface FatbinEntry {
  /** Byte offset of the entry header in the file. */
  offset: number;
  /** 1: PTX text, 2: an ELF cubin (SASS). */
  kind: number;
  /** The SM architecture it was built for (90 = sm_90). */
  arch: number;
  headerSize: number;
  payloadSize: number;
}

/**
 * Lists every kernel image in the fat-binary containers of `file` (a shared library or object file).
 *
 * @example
 * const archs = new Set(listFatbinEntries(readFileSync('libonnxruntime_providers_cuda.so')).map((e) => e.arch));
 */
export function listFatbinEntries(file: Uint8Array): FatbinEntry[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out: FatbinEntry[] = [];
  let i = 0;
  // scan for the magic's first byte; the whole magic and the header size confirm a container
  while ((i = file.indexOf(FATBIN_MAGIC & 0xff, i)) >= 0 && i + CONTAINER_HEADER <= file.length) {
    if (view.getUint32(i, true) !== FATBIN_MAGIC || view.getUint16(i + 6, true) !== CONTAINER_HEADER) {
      i++;
      continue;
    }
    const size = Number(view.getBigUint64(i + 8, true));
    const end = i + CONTAINER_HEADER + size;
    if (end > file.length) throw new GraphError('BAD_FEED', `fat binary at byte ${i} claims ${size} bytes, past the end of the file (${file.length})`);
    let p = i + CONTAINER_HEADER;
    while (p < end) {
      if (p + ENTRY_MIN_HEADER > end) throw new GraphError('BAD_FEED', `fat binary at byte ${i}: entry header at ${p} is cut off by the container's end (${end})`);
      const headerSize = view.getUint32(p + 4, true);
      const payloadSize = Number(view.getBigUint64(p + 8, true));
      if (headerSize < ENTRY_MIN_HEADER || p + headerSize + payloadSize > end)
        throw new GraphError('BAD_FEED', `fat binary at byte ${i}: entry at ${p} (header ${headerSize} B, payload ${payloadSize} B) does not fit in its container (ends at ${end})`);
      out.push({ offset: p, kind: view.getUint16(p, true), arch: view.getUint32(p + 28, true), headerSize, payloadSize });
      p += headerSize + payloadSize;
    }
    i = end;
  }
  return out;
}

/**
 * Zeroes, in place, the payload of every kernel image built for another architecture than `keepArch` (headers and
 * offsets stay, so the library loads as before on a `keepArch` GPU and compresses far better). Refuses a file with no
 * image for `keepArch`: the result would run on no GPU.
 *
 * @example
 * const lib = readFileSync(path);
 * const { zeroedBytes } = keepOnlyCudaArch(lib, 90); // H100 / H200
 */
export function keepOnlyCudaArch(file: Uint8Array, keepArch: number): { entries: number; kept: number; zeroedBytes: number } {
  const entries = listFatbinEntries(file);
  const kept = entries.filter((e) => e.arch === keepArch);
  if (kept.length === 0) {
    const archs = [...new Set(entries.map((e) => e.arch))].sort((a, b) => a - b);
    throw new GraphError('BAD_OPTION', `no kernel image for sm_${keepArch} in this file (it has ${archs.length ? archs.map((a) => `sm_${a}`).join(', ') : 'no fat binary'})`);
  }
  let zeroedBytes = 0;
  for (const e of entries) {
    if (e.arch === keepArch) continue;
    file.fill(0, e.offset + e.headerSize, e.offset + e.headerSize + e.payloadSize);
    zeroedBytes += e.payloadSize;
  }
  return { entries: entries.length, kept: kept.length, zeroedBytes };
}
