// Distillation recipes as JSON files: the stages (align / KD / SeqKD / SFT / DPO), their data, losses,
// trainable parameters, schedule, length and layer schedule; a validator whose errors name the JSON path at fault.
import { readFile } from 'node:fs/promises';
import { MilError } from '@mil/core';

export type RecipeErrorCode = 'RECIPE_NOT_FOUND' | 'RECIPE_INVALID_JSON' | 'RECIPE_INVALID' | 'RECIPE_UNSUPPORTED';

/**
 * A recipe that cannot be read, parsed or run; `path` is the JSON path of the bad field (e.g. `stages[1].lr`).
 * @example try { parseRecipe(obj) } catch (e) { if (e instanceof RecipeError) console.error(e.path, e.message); }
 */
export class RecipeError extends MilError<RecipeErrorCode> {
  readonly path: string;
  constructor(code: RecipeErrorCode, path: string, message: string, options?: { cause?: unknown; hint?: string }) {
    super(code, message, options);
    this.path = path;
  }
}

export const RECIPE_FORMAT = 'mil-recipe/1';
export const STAGE_KINDS = ['align', 'kd', 'seqkd', 'sft', 'dpo'] as const;
export type RecipeStageKind = (typeof STAGE_KINDS)[number];
export const DECAYS = ['cosine', 'linear', 'constant'] as const;

/** Where a stage's examples come from. */
export type RecipeData =
  /** A corpus built into the project (`sotu`). */
  | { corpus: string }
  /** Files, folders or globs @mil/data reads (text, JSONL, chat JSONL, preference JSONL, Parquet). */
  | { paths: string[] }
  /** Teacher generations from prompts (SeqKD): the prompts' files and the sampling settings. */
  | { pseudoLabels: { prompts: string[]; maxNewTokens: number; temperature: number; topP?: number; topK?: number } };

export interface RecipeStage {
  name: string;
  /** align: layer-wise MSE to the replaced attention; kd: KL/CE to the teacher on text; seqkd: the same on teacher
   * generations; sft: on chat data, loss on assistant tokens; dpo: preference pairs, teacher as reference. */
  kind: RecipeStageKind;
  data: RecipeData;
  /** Loss weights: kl (to the teacher), ce (to the data), optional temperature; dpo: beta. */
  loss: { kl: number; ce: number; temperature?: number; beta?: number };
  /** 'mamba': only the new mixers (names containing ".mamba."); 'all': every parameter. */
  trainable: 'mamba' | 'all';
  lr: number;
  /** Warmup in optimizer steps, or as a fraction of the stage's steps (exactly one may be given; default 0 steps). */
  warmupSteps?: number;
  warmupRatio?: number;
  decay: (typeof DECAYS)[number];
  /** Length: optimizer steps, or training tokens (steps = ceil(tokens / (batch × seq))), or passes over the data. */
  steps?: number;
  tokens?: number;
  epochs?: number;
  /** Attention layers kept: a fraction (0.75, 0.5, 0.25, 0.125, 0), a list (progressive: the stage runs at each in
   * turn, `split` giving each one's share of the steps, default equal), or explicit layer indices. */
  layers: { attentionFraction: number | number[]; split?: number[] } | { attnLayers: number[] };
  maxGradNorm?: number;
  /** Rows per optimizer step and tokens per row (default: the recipe's). */
  batch?: number;
  seq?: number;
}

export interface Recipe {
  format: typeof RECIPE_FORMAT;
  name: string;
  description?: string;
  student: { variant: 'mamba1' | 'mamba2' };
  batch: number;
  seq: number;
  stages: RecipeStage[];
}

type Obj = Record<string, unknown>;
const describe = (v: unknown): string => (v === undefined ? 'nothing' : v === null ? 'null' : Array.isArray(v) ? `an array` : typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? 'an object' : String(v));
const bad = (path: string, expected: string, got: unknown): never => {
  throw new RecipeError('RECIPE_INVALID', path, `${path}: expected ${expected}, got ${describe(got)}`);
};

function obj(v: unknown, path: string, allowed: readonly string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(path, 'an object', v);
  for (const k of Object.keys(v as Obj)) if (!allowed.includes(k)) throw new RecipeError('RECIPE_INVALID', `${path}.${k}`, `${path}.${k}: unknown field (allowed: ${allowed.join(', ')})`);
  return v as Obj;
}
const str = (v: unknown, path: string): string => (typeof v === 'string' && v.length > 0 ? v : bad(path, 'a non-empty string', v));
const positive = (v: unknown, path: string): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : bad(path, 'a positive number', v));
const nonNegative = (v: unknown, path: string): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : bad(path, 'a non-negative number', v));
const posInt = (v: unknown, path: string): number => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : bad(path, 'a positive integer', v));
const nonNegInt = (v: unknown, path: string): number => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : bad(path, 'a non-negative integer', v));
const fraction = (v: unknown, path: string): number => (typeof v === 'number' && v >= 0 && v <= 1 ? v : bad(path, 'a number in [0, 1]', v));
const oneOf = <T extends string>(v: unknown, path: string, options: readonly T[]): T => (options.includes(v as T) ? (v as T) : bad(path, `one of ${options.map((o) => `"${o}"`).join(', ')}`, v));
const list = <T>(v: unknown, path: string, item: (x: unknown, p: string) => T, minLength = 1): T[] => {
  if (!Array.isArray(v) || v.length < minLength) bad(path, `a list of at least ${minLength}`, v);
  return (v as unknown[]).map((x, i) => item(x, `${path}[${i}]`));
};

function parseData(v: unknown, path: string, kind: RecipeStageKind): RecipeData {
  const o = obj(v, path, ['corpus', 'paths', 'pseudoLabels']);
  const keys = Object.keys(o);
  if (keys.length !== 1) throw new RecipeError('RECIPE_INVALID', path, `${path}: expected exactly one of "corpus", "paths", "pseudoLabels", got ${keys.length ? keys.join(', ') : 'none'}`);
  if (o.corpus !== undefined) return { corpus: oneOf(o.corpus, `${path}.corpus`, ['sotu'] as const) };
  if (o.paths !== undefined) return { paths: list(o.paths, `${path}.paths`, str) };
  if (kind !== 'seqkd') throw new RecipeError('RECIPE_INVALID', `${path}.pseudoLabels`, `${path}.pseudoLabels: teacher generations are the data of a "seqkd" stage, not "${kind}"`);
  const p = obj(o.pseudoLabels, `${path}.pseudoLabels`, ['prompts', 'maxNewTokens', 'temperature', 'topP', 'topK']);
  const q = `${path}.pseudoLabels`;
  return {
    pseudoLabels: {
      prompts: list(p.prompts, `${q}.prompts`, str),
      maxNewTokens: posInt(p.maxNewTokens, `${q}.maxNewTokens`),
      temperature: nonNegative(p.temperature, `${q}.temperature`),
      ...(p.topP !== undefined ? { topP: fraction(p.topP, `${q}.topP`) } : {}),
      ...(p.topK !== undefined ? { topK: posInt(p.topK, `${q}.topK`) } : {}),
    },
  };
}

const STAGE_FIELDS = ['name', 'kind', 'data', 'loss', 'trainable', 'lr', 'warmupSteps', 'warmupRatio', 'decay', 'steps', 'tokens', 'epochs', 'layers', 'maxGradNorm', 'batch', 'seq'];

function parseStage(v: unknown, path: string): RecipeStage {
  const o = obj(v, path, STAGE_FIELDS);
  const kind = oneOf(o.kind, `${path}.kind`, STAGE_KINDS);
  const l = obj(o.loss, `${path}.loss`, ['kl', 'ce', 'temperature', 'beta']);
  const loss: RecipeStage['loss'] = { kl: nonNegative(l.kl, `${path}.loss.kl`), ce: nonNegative(l.ce, `${path}.loss.ce`) };
  if (l.temperature !== undefined) loss.temperature = positive(l.temperature, `${path}.loss.temperature`);
  if (kind === 'dpo') loss.beta = positive(l.beta, `${path}.loss.beta`);
  else if (l.beta !== undefined) throw new RecipeError('RECIPE_INVALID', `${path}.loss.beta`, `${path}.loss.beta: only a "dpo" stage has a beta`);
  if (kind !== 'align' && kind !== 'dpo' && loss.kl === 0 && loss.ce === 0) throw new RecipeError('RECIPE_INVALID', `${path}.loss`, `${path}.loss: kl and ce are both 0, nothing would be trained`);
  const lengths = (['steps', 'tokens', 'epochs'] as const).filter((k) => o[k] !== undefined);
  if (lengths.length !== 1) throw new RecipeError('RECIPE_INVALID', path, `${path}: expected exactly one of "steps", "tokens", "epochs", got ${lengths.length ? lengths.join(', ') : 'none'}`);
  if (o.warmupSteps !== undefined && o.warmupRatio !== undefined) throw new RecipeError('RECIPE_INVALID', `${path}.warmupRatio`, `${path}.warmupRatio: give warmupSteps or warmupRatio, not both`);
  const ly = obj(o.layers, `${path}.layers`, ['attentionFraction', 'split', 'attnLayers']);
  let layers: RecipeStage['layers'];
  if (ly.attnLayers !== undefined) {
    if (ly.attentionFraction !== undefined || ly.split !== undefined) throw new RecipeError('RECIPE_INVALID', `${path}.layers`, `${path}.layers: attnLayers excludes attentionFraction and split`);
    layers = { attnLayers: list(ly.attnLayers, `${path}.layers.attnLayers`, nonNegInt, 0) };
  } else {
    const fr = Array.isArray(ly.attentionFraction) ? list(ly.attentionFraction, `${path}.layers.attentionFraction`, fraction) : fraction(ly.attentionFraction, `${path}.layers.attentionFraction`);
    layers = { attentionFraction: fr };
    if (ly.split !== undefined) {
      const split = list(ly.split, `${path}.layers.split`, positive);
      const n = Array.isArray(fr) ? fr.length : 1;
      if (split.length !== n) throw new RecipeError('RECIPE_INVALID', `${path}.layers.split`, `${path}.layers.split: expected ${n} shares (one per attentionFraction), got ${split.length}`);
      layers.split = split;
    }
  }
  const stage: RecipeStage = {
    name: str(o.name, `${path}.name`),
    kind,
    data: parseData(o.data, `${path}.data`, kind),
    loss,
    trainable: oneOf(o.trainable, `${path}.trainable`, ['mamba', 'all'] as const),
    lr: positive(o.lr, `${path}.lr`),
    decay: o.decay === undefined ? 'cosine' : oneOf(o.decay, `${path}.decay`, DECAYS),
    layers,
  };
  if (o.warmupSteps !== undefined) stage.warmupSteps = nonNegInt(o.warmupSteps, `${path}.warmupSteps`);
  if (o.warmupRatio !== undefined) stage.warmupRatio = fraction(o.warmupRatio, `${path}.warmupRatio`);
  if (o.steps !== undefined) stage.steps = posInt(o.steps, `${path}.steps`);
  if (o.tokens !== undefined) stage.tokens = posInt(o.tokens, `${path}.tokens`);
  if (o.epochs !== undefined) stage.epochs = positive(o.epochs, `${path}.epochs`);
  if (o.maxGradNorm !== undefined) stage.maxGradNorm = positive(o.maxGradNorm, `${path}.maxGradNorm`);
  if (o.batch !== undefined) stage.batch = posInt(o.batch, `${path}.batch`);
  if (o.seq !== undefined) stage.seq = posInt(o.seq, `${path}.seq`);
  return stage;
}

/**
 * Validates a recipe object (e.g. parsed JSON); RECIPE_INVALID names the JSON path of the first bad field and what
 * was expected, e.g. `stages[1].lr: expected a positive number, got -1`.
 *
 * @example
 * const r = parseRecipe(JSON.parse(text), 'my-recipe.json');
 */
export function parseRecipe(value: unknown, source = 'recipe'): Recipe {
  try {
    const o = obj(value, '$', ['$schema', 'format', 'name', 'description', 'student', 'batch', 'seq', 'stages']);
    if (o.format !== RECIPE_FORMAT) bad('format', `"${RECIPE_FORMAT}"`, o.format);
    const st = obj(o.student, 'student', ['variant']);
    const r: Recipe = {
      format: RECIPE_FORMAT,
      name: str(o.name, 'name'),
      student: { variant: oneOf(st.variant, 'student.variant', ['mamba1', 'mamba2'] as const) },
      batch: posInt(o.batch, 'batch'),
      seq: posInt(o.seq, 'seq'),
      stages: list(o.stages, 'stages', parseStage),
    };
    if (o.description !== undefined) r.description = str(o.description, 'description');
    return r;
  } catch (e) {
    if (e instanceof RecipeError && source !== 'recipe') throw new RecipeError(e.code, e.path, `${source}: ${e.message}`, { cause: e.cause });
    throw e;
  }
}

/**
 * Reads and validates a recipe file; RECIPE_NOT_FOUND / RECIPE_INVALID_JSON / RECIPE_INVALID name the file.
 * @example const r = await loadRecipeFile('recipes/paper.json');
 */
export async function loadRecipeFile(path: string): Promise<Recipe> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new RecipeError('RECIPE_NOT_FOUND', '$', `${path}: cannot read the recipe (${(e as Error).message})`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RecipeError('RECIPE_INVALID_JSON', '$', `${path}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  return parseRecipe(json, path);
}

/** The built-in recipes, shipped as files next to the package (`recipes/<name>.json`). 'default-three-stage' is
 * the embedded default followed by SFT on SOTU chats and DPO on teacher-vs-student pairs. */
export const BUILT_IN_RECIPES = ['default', 'paper', 'default-three-stage'] as const;

/**
 * The file of a built-in recipe name, or the argument itself (a path).
 * @example recipeFileOf('paper'); // …/recipes/paper.json
 */
export function recipeFileOf(nameOrPath: string): string {
  return (BUILT_IN_RECIPES as readonly string[]).includes(nameOrPath) ? builtInRecipePath(nameOrPath as (typeof BUILT_IN_RECIPES)[number]) : nameOrPath;
}

/**
 * The path of a built-in recipe file.
 * @example await loadRecipeFile(builtInRecipePath('paper'));
 */
export function builtInRecipePath(name: (typeof BUILT_IN_RECIPES)[number]): string {
  // from src/recipe/ (sources) or dist/ (the built package)
  const up = import.meta.url.includes('/src/recipe/') ? '../../' : '../';
  return new URL(`${up}recipes/${name}.json`, import.meta.url).pathname;
}
