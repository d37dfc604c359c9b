// mil export: a teacher or hybrid folder → standalone ONNX (model.onnx + io.json + configs).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exportOnnx, loadHybrid, loadLlama } from '@mil/models';

export const exportHelp = `mil export --model <folder> --out <dir> [--max-positions N]   (Llama or hybrid folder → ONNX for onnxruntime / transformers.js)`;

export async function exportCommand(argv: string[]): Promise<void> {
  const { values: a } = parseArgs({ args: argv, options: { model: { type: 'string' }, out: { type: 'string' }, 'max-positions': { type: 'string' } } });
  if (!a.model || !a.out) throw new Error('mil export needs --model <folder> and --out <dir>');
  const maxPositions = a['max-positions'] ? Number(a['max-positions']) : undefined;
  if (maxPositions !== undefined && !(Number.isInteger(maxPositions) && maxPositions > 0)) throw new Error(`--max-positions must be a positive integer, got ${a['max-positions']}`);
  const e = existsSync(join(a.model, 'mamba_config.json'))
    ? await loadHybrid(a.model).then((h) => exportOnnx({ teacher: h.teacher, hybrid: h.hybrid, weights: h.weights }, a.out!, { maxPositions }))
    : await loadLlama(a.model).then((m) => exportOnnx({ teacher: m.config, weights: m.weights }, a.out!, { maxPositions }));
  process.stdout.write(`wrote ${e.modelPath}: ${e.inputs.length} inputs, ${e.outputs.length} outputs (see io.json)\n`);
}
