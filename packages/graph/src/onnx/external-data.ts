// Moving initializer bytes out of the protobuf into a side file (ONNX external data), and writing both
// files atomically. Needed above the 2 GiB protobuf limit; also lets onnxruntime mmap the weights.

import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { GraphError } from '../errors';
import { encodeModel } from './proto-encode';
import type { GraphSpec, ModelSpec, TensorSpec } from './model-spec';

export interface ExternalizeOptions {
  /** File name of the data file, relative to the model file's directory (ONNX `location`). */
  location: string;
  /** Tensors with fewer raw bytes stay inside the proto. Default 1024. */
  minBytes?: number;
  /** Byte alignment of each tensor's offset in the data file. Default 64. */
  align?: number;
}

export interface ExternalizedModel {
  /** The model with large initializers turned into external references. */
  spec: ModelSpec;
  /** Pieces of the data file in order; the gaps between them are alignment padding (zeros). */
  pieces: { offset: number; data: Uint8Array }[];
  /** Total size of the data file in bytes. */
  totalBytes: number;
}

/**
 * Returns a copy of `spec` whose initializers of at least `minBytes` (in every graph, sub-graphs
 * included) refer to `location` at aligned offsets, plus the bytes that file must hold.
 *
 * @example
 * const { spec: small, pieces } = externalizeInitializers(spec, { location: 'model.onnx.data' });
 */
export function externalizeInitializers(spec: ModelSpec, options: ExternalizeOptions): ExternalizedModel {
  const minBytes = options.minBytes ?? 1024;
  const align = options.align ?? 64;
  if (!Number.isInteger(align) || align < 1) throw new GraphError('BAD_OPTION', `externalizeInitializers: align must be a positive integer, got ${align}`);
  const pieces: { offset: number; data: Uint8Array }[] = [];
  let end = 0;

  const moveTensor = (t: TensorSpec): TensorSpec => {
    if (!t.rawData || t.rawData.length < minBytes) return t;
    const offset = Math.ceil(end / align) * align;
    pieces.push({ offset, data: t.rawData });
    end = offset + t.rawData.length;
    return { name: t.name, dtype: t.dtype, dims: t.dims, external: { location: options.location, offset, length: t.rawData.length } };
  };
  const moveGraph = (g: GraphSpec): GraphSpec => ({
    ...g,
    initializers: g.initializers.map(moveTensor),
    nodes: g.nodes.map((n) => {
      let changed = false;
      const attributes = { ...n.attributes };
      for (const [k, a] of Object.entries(n.attributes)) {
        if (a.type === 'graph') {
          attributes[k] = { type: 'graph', value: moveGraph(a.value) };
          changed = true;
        }
      }
      return changed ? { ...n, attributes } : n;
    }),
  });

  return { spec: { ...spec, graph: moveGraph(spec.graph) }, pieces, totalBytes: end };
}

export interface SaveModelOptions {
  /** Store initializers of at least `minBytes` in a side file named `location` (default: `<model file>.data`). */
  externalData?: { location?: string; minBytes?: number; align?: number };
}

async function writeAtomically(path: string, write: (fd: import('node:fs/promises').FileHandle) => Promise<void>): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await write(fh);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
}

async function writeAll(fh: import('node:fs/promises').FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Writes a model to `modelPath` (and its external data file, if asked) atomically: each file goes to
 * a temp file in the same directory and is renamed into place. The data file is written first, so a
 * model file never points at a missing or partial data file.
 *
 * @example
 * await saveModel(spec, '/tmp/out/model.onnx', { externalData: { minBytes: 4096 } });
 * const session = await InferenceSession.create('/tmp/out/model.onnx');
 */
export async function saveModel(spec: ModelSpec, modelPath: string, options: SaveModelOptions = {}): Promise<void> {
  let toEncode = spec;
  try {
    if (options.externalData) {
      const location = options.externalData.location ?? `${basename(modelPath)}.data`;
      const ext = externalizeInitializers(spec, { ...options.externalData, location });
      toEncode = ext.spec;
      await writeAtomically(join(dirname(modelPath), location), async (fh) => {
        for (const p of ext.pieces) await writeAll(fh, p.data, p.offset);
      });
    }
    const bytes = encodeModel(toEncode);
    await writeAtomically(modelPath, (fh) => writeAll(fh, bytes, 0));
  } catch (e) {
    if (e instanceof GraphError) throw e;
    throw new GraphError('SERIALIZE_FAILED', `saveModel: could not write '${modelPath}': ${(e as Error).message}`, { cause: e });
  }
}
