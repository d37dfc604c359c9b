// mil export: a teacher or hybrid folder → standalone ONNX (model.onnx + io.json + configs).
import { parseArgs } from 'node:util';
import { Runner } from '@mil/graph';
import { exportOnnx, loadHybrid, loadLlama } from '@mil/models';
import { CliError } from '../errors';
import { isHybridFolder } from '../model-folder';
import { parseRunFlags, runFlagSpecs, runFlagsHelp } from '../run-flags';

export const exportHelp = `mil export --model <folder> --out <dir> [--max-positions N] ${runFlagsHelp}
            (Llama or hybrid folder → ONNX for onnxruntime / transformers.js; the written model is then loaded on --ep)`;

export async function exportCommand(argv: string[]): Promise<void> {
  const { values: a } = parseArgs({ args: argv, options: { model: { type: 'string' }, out: { type: 'string' }, 'max-positions': { type: 'string' }, ...runFlagSpecs } });
  if (!a.model || !a.out) throw new CliError('BAD_OPTION', 'mil export needs --model <folder> and --out <dir>');
  const run = parseRunFlags(a);
  const maxPositions = a['max-positions'] ? Number(a['max-positions']) : undefined;
  if (maxPositions !== undefined && !(Number.isInteger(maxPositions) && maxPositions > 0)) throw new CliError('BAD_OPTION', `--max-positions must be a positive integer, got ${a['max-positions']}`);
  const e = isHybridFolder(a.model)
    ? await loadHybrid(a.model).then((h) => exportOnnx({ teacher: h.teacher, hybrid: h.hybrid, weights: h.weights }, a.out!, { maxPositions }))
    : await loadLlama(a.model).then((m) => exportOnnx({ teacher: m.config, weights: m.weights }, a.out!, { maxPositions }));
  // Load what was written on the chosen provider: the export is only done when onnxruntime accepts it there.
  const check = await Runner.create(e.modelPath, run);
  await check.release();
  process.stdout.write(`wrote ${e.modelPath}: ${e.inputs.length} inputs, ${e.outputs.length} outputs (see io.json); loads on ${run.ep}\n`);
}
