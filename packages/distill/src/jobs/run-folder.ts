// The main job's run folder: checked and created before any work, holding the job's options (job.json) so
// `--resume` can continue it, and swept of the temporary files an interrupted write leaves behind.
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writableFolderProblem, writeFileAtomic, type HybridConfig, type LlamaConfig } from '@mil/checkpoint';
import { saveHybrid } from '@mil/models';
import { DistillError } from '../errors';
import type { DistillHybridResult } from '../pipeline/distill-hybrid';

/** The file of a run folder that records the job's options. */
export const RUN_OPTIONS_FILE = 'job.json';
const FORMAT = 'mil-main-job';

/** Temporary names of interrupted writes: checkpoint dirs (`.tmp-step-…`, `.old-step-…`) and atomic files (`.name.<pid>.<hex>.tmp`). */
function isTemporary(name: string, isDir: boolean): boolean {
  return isDir ? name.startsWith('.tmp-') || name.startsWith('.old-') : name.startsWith('.') && name.endsWith('.tmp');
}

/**
 * Deletes, anywhere under `dir`, what interrupted writes left behind (never a published file). Returns the paths removed.
 *
 * @example await removeInterruptedWrites('runs/distill-x'); // ['runs/distill-x/student/.model.safetensors.123.ab12cd34.tmp']
 */
export async function removeInterruptedWrites(dir: string): Promise<string[]> {
  const removed: string[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return removed;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (isTemporary(e.name, e.isDirectory())) {
      await rm(p, { recursive: true, force: true });
      removed.push(p);
    } else if (e.isDirectory()) removed.push(...(await removeInterruptedWrites(p)));
  }
  return removed;
}

/**
 * Makes `out` ready before any work: refuses a path that is a file, a folder that cannot be written, a folder that
 * already holds a run (unless resuming) or, when resuming, one that holds none; creates it; removes temporaries.
 *
 * @example await prepareRunFolder('runs/demo', { resume: false });
 */
export async function prepareRunFolder(out: string, opts: { resume: boolean }): Promise<void> {
  const st = await stat(out).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw new DistillError('OUT_NOT_WRITABLE', `run folder ${out} cannot be used: ${e.code ?? e.message}`, { cause: e });
  });
  if (st && !st.isDirectory()) throw new DistillError('OUT_NOT_A_FOLDER', `run folder ${out} is an existing file, not a folder; choose another --out`);
  const hasRun = st !== null && (await stat(join(out, RUN_OPTIONS_FILE)).then(() => true, () => false));
  if (opts.resume && !hasRun) throw new DistillError('RUN_NOT_FOUND', `${out} holds no run to resume (no ${RUN_OPTIONS_FILE}); start one with mil distill --out ${out}`);
  if (!opts.resume && hasRun) throw new DistillError('RUN_EXISTS', `${out} already holds a run; continue it with mil distill --resume ${out}, or choose another --out`);
  const why = await writableFolderProblem(out);
  if (why !== null) throw new DistillError('OUT_NOT_WRITABLE', `run folder ${out} cannot be written (${why}); choose another --out`);
  await removeInterruptedWrites(out);
}

/**
 * Records the job's options in the run folder (atomically), so `readRunOptions` can restart it.
 *
 * @example await writeRunOptions('runs/demo', opts);
 */
export async function writeRunOptions(out: string, options: object): Promise<void> {
  await writeFileAtomic(join(out, RUN_OPTIONS_FILE), `${JSON.stringify({ format: FORMAT, options }, null, 2)}\n`);
}

/**
 * The options a run was started with (RUN_NOT_FOUND when `dir` holds no run).
 *
 * @example const opts = await readRunOptions('runs/demo'); await runMainJob({ ...opts, out: 'runs/demo', resume: true });
 */
export async function readRunOptions<T extends object>(dir: string): Promise<T> {
  const path = join(dir, RUN_OPTIONS_FILE);
  let text: string;
  try {
    const st = await stat(path);
    if (!st.isFile() || st.size > 1 << 20) throw new DistillError('RUN_NOT_FOUND', `${path} is not a small regular file`);
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof DistillError) throw e;
    throw new DistillError('RUN_NOT_FOUND', `${dir} holds no run to resume (${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  let json: { format?: unknown; options?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch (e) {
    throw new DistillError('RUN_NOT_FOUND', `${path} is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (json?.format !== FORMAT || typeof json.options !== 'object' || json.options === null) {
    throw new DistillError('RUN_NOT_FOUND', `${path} is not a main-job record (expected {"format": "${FORMAT}", "options": {...}})`);
  }
  return json.options as T;
}

/** Tokenizer files a student folder carries over from its teacher (those the teacher has). */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja'];

/**
 * Writes a student in the reference layout (config.json naming the teacher folder in `_name_or_path`,
 * mamba_config.json, model.safetensors) with the teacher's tokenizer files.
 *
 * @example await writeStudentFolder('runs/x/student', 'models/sotu-tiny', teacherConfig, result.hybridConfig, result.weights);
 */
export async function writeStudentFolder(dir: string, teacherDir: string, teacherConfig: LlamaConfig, hybrid: HybridConfig, weights: Map<string, Float32Array>): Promise<void> {
  await mkdir(dir, { recursive: true });
  // _name_or_path = the teacher folder as given: the reference's loader builds the model from it
  await saveHybrid(dir, { teacher: teacherConfig, hybrid, weights }, { teacherNameOrPath: teacherDir });
  for (const f of TOKENIZER_FILES) {
    const bytes = await readFile(join(teacherDir, f)).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    if (bytes) await writeFileAtomic(join(dir, f), bytes);
  }
}

/**
 * The loss curves of a run's stages, one after the other on a common step axis (for lossCurveSvg).
 *
 * @example lossCurveSvg(stageLossCurves(result, 'student'), { title: 'loss' });
 */
export function stageLossCurves(r: Pick<DistillHybridResult, 'stages'>, label: string): { name: string; points: { x: number; y: number }[] }[] {
  let offset = 0;
  return r.stages.map((s) => {
    const points = s.history.map((h) => ({ x: offset + h.step, y: h.loss }));
    offset += s.history.length;
    return { name: `${label}: ${s.name}`, points };
  });
}
