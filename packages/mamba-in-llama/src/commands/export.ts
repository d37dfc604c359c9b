// mil export: a teacher or hybrid folder → standalone ONNX (model.onnx + io.json + configs).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { exportOnnx, loadHybrid, loadLlama } from '@mil/models';
import { intFlag, parseFlags, requiredFlag } from '../options';
import { checkOutputFolder } from '../output-folder';

export const exportHelp = `mil export --model <folder> --out <dir> [--max-positions N]   (Llama or hybrid folder → ONNX for onnxruntime / transformers.js)`;

/** Longest --max-positions: RoPE tables of 2^24 rows are already GBs for large head dims. */
const MAX_POSITIONS = 1 << 24;

export async function exportCommand(argv: string[]): Promise<void> {
  const a = parseFlags(argv, { model: { type: 'string' }, out: { type: 'string' }, 'max-positions': { type: 'string' } }, 'mil export');
  const model = requiredFlag('--model', a.model, 'mil export');
  const out = requiredFlag('--out', a.out, 'mil export');
  const maxPositions = a['max-positions'] === undefined ? undefined : intFlag('--max-positions', a['max-positions'], { min: 1, max: MAX_POSITIONS });
  await checkOutputFolder(out, '--out');
  const e = existsSync(join(model, 'mamba_config.json'))
    ? await loadHybrid(model).then((h) => exportOnnx({ teacher: h.teacher, hybrid: h.hybrid, weights: h.weights }, out, { maxPositions }))
    : await loadLlama(model).then((m) => exportOnnx({ teacher: m.config, weights: m.weights }, out, { maxPositions }));
  process.stdout.write(`wrote ${e.modelPath}: ${e.inputs.length} inputs, ${e.outputs.length} outputs (see io.json)\n`);
}
