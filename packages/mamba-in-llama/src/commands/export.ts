// mil export: a teacher or hybrid folder → standalone ONNX (onnxruntime), a transformers.js folder, or GGUF (llama.cpp).
import { join } from 'node:path';
import { Runner } from '@mil/graph';
import { exportGguf, exportOnnx, exportTransformersJs, loadHybrid, loadLlama, type ExportSource, type GgufDtype } from '@mil/models';
import { CliError } from '../errors';
import { isHybridFolder } from '../model-folder';
import { parseRunFlags, runFlagSpecs, runFlagsHelp } from '../run-flags';
import { intFlag, parseFlags, requiredFlag } from '../options';
import { checkOutputFolder } from '../output-folder';

export const exportHelp = `mil export --model <folder> --out <dir|file.gguf> [--format onnx|transformers.js|gguf] [--dtype ...] [--max-positions N] ${runFlagsHelp}
    onnx             model.onnx + io.json + config.json for plain onnxruntime (--dtype fp32|fp16); then loaded on --ep
    transformers.js  onnx/model.onnx (+ onnx/model_fp16.onnx) + config + tokenizer files (--dtype fp32|fp16|both, default
                     both for a teacher, fp32 for a hybrid); then loaded on --ep
    gguf             one .gguf file with the tokenizer, for llama.cpp (--dtype f32|f16|q8_0, default f32; teachers and
                     Mamba-2 students)`;

const FORMATS = ['onnx', 'transformers.js', 'gguf'] as const;
type Format = (typeof FORMATS)[number];

function onnxDtypes(flag: string | undefined, format: Format): ('float32' | 'float16')[] {
  const d = flag ?? (format === 'transformers.js' ? 'both' : 'fp32');
  if (d === 'fp32' || d === 'f32') return ['float32'];
  if (d === 'fp16' || d === 'f16') return ['float16'];
  if (d === 'both' && format === 'transformers.js') return ['float32', 'float16'];
  throw new CliError('BAD_OPTION', `--dtype for --format ${format} must be fp32 or fp16${format === 'transformers.js' ? ' or both' : ''}, got ${d}`);
}

async function loadSource(dir: string): Promise<ExportSource> {
  if (isHybridFolder(dir)) {
    const h = await loadHybrid(dir);
    return { teacher: h.teacher, hybrid: h.hybrid, weights: h.weights };
  }
  const m = await loadLlama(dir);
  return { teacher: m.config, weights: m.weights };
}

/** Longest --max-positions: RoPE tables of 2^24 rows are already GBs for large head dims. */
const MAX_POSITIONS = 1 << 24;

export async function exportCommand(argv: string[]): Promise<void> {
  const a = parseFlags(argv, { model: { type: 'string' }, out: { type: 'string' }, format: { type: 'string', default: 'onnx' }, dtype: { type: 'string' }, 'max-positions': { type: 'string' }, ...runFlagSpecs }, 'mil export');
  const model = requiredFlag('--model', a.model, 'mil export');
  const out = requiredFlag('--out', a.out, 'mil export');
  const format = a.format as Format;
  if (!FORMATS.includes(format)) throw new CliError('BAD_OPTION', `--format must be one of ${FORMATS.join(', ')}, got ${a.format}`);
  const run = parseRunFlags(a);
  const maxPositions = a['max-positions'] === undefined ? undefined : intFlag('--max-positions', a['max-positions'], { min: 1, max: MAX_POSITIONS });
  if (format === 'gguf') {
    const dtype = (a.dtype ?? 'f32') as GgufDtype;
    if (!['f32', 'f16', 'q8_0'].includes(dtype)) throw new CliError('BAD_OPTION', `--dtype for --format gguf must be f32, f16 or q8_0, got ${a.dtype}`);
    const e = await exportGguf(await loadSource(model), out, { tokenizerDir: model, dtype, contextLength: maxPositions });
    process.stdout.write(`wrote ${e.path}: ${e.tensors} tensors, ${(e.bytes / 2 ** 20).toFixed(1)} MiB (${dtype})\n`);
    return;
  }
  await checkOutputFolder(out, '--out');
  const hybrid = isHybridFolder(model);
  const dtypes = onnxDtypes(a.dtype ?? (hybrid && format === 'transformers.js' ? 'fp32' : undefined), format);
  const src = await loadSource(model);
  let written: string[];
  let summary: string;
  if (format === 'onnx') {
    const e = await exportOnnx(src, out, { maxPositions, dtype: dtypes[0] });
    written = [e.modelPath];
    summary = `wrote ${e.modelPath}: ${e.inputs.length} inputs, ${e.outputs.length} outputs (see io.json)`;
  } else {
    const e = await exportTransformersJs(src, out, { tokenizerDir: model, dtypes, maxPositions });
    written = e.files.filter((f) => f.endsWith('.onnx')).map((f) => join(out, f));
    summary = `wrote ${out} (model_type ${e.modelType}): ${e.files.join(', ')}`;
  }
  // Load what was written on the chosen provider: the export is only done when onnxruntime accepts it there.
  for (const path of written) {
    const check = await Runner.create(path, run);
    await check.release();
  }
  process.stdout.write(`${summary}; loads on ${run.ep}\n`);
}
