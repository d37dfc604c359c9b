// The data of each stage of a recipe file: text / chat windows (packed by @mil/data, held-out split kept out of
// training), teacher generations (SeqKD), preference pairs (DPO) from files, and the embedded corpus's own
// data (SOTU text windows, SOTU chats for SFT, and teacher-vs-student pairs for DPO built at the stage's start).
import type { HybridConfig, LlamaConfig, LoadedTokenizer } from '@mil/checkpoint';
import { mixSeeds, type RunOptions } from '@mil/core';
import { loadShards, readExamples, readPreferencePairs, tokenizeToShards, tokenizerFolderHash, windowBatch, type PackedWindows, type TokenizedPair, type TokenizeProgress } from '@mil/data';
import { arrayDataSource, type DataSource } from '../trainer';
import { collateWindows, tokenWindows } from '../data/token-windows';
import { collatePseudoLabels, type PseudoLabel } from '../pseudo-labels';
import { collatePairs } from '../dpo-step';
import type { TokenBatch } from '../train-step';
import { RecipeError, type RecipeStage } from '../recipe/recipe-file';
import type { ResolvedStage } from '../recipe/recipe-stages';
import { RECIPES } from '../pipeline/recipes';
import { chatTemplateOf, sotuChatPrompts, sotuChatWindows } from './sotu-chat';
import { continuations, EVAL_SAMPLING } from './stage-eval';

/** What the data of a recipe needs from the run. */
export interface RecipeDataContext extends RunOptions {
  teacherDir: string;
  teacherConfig: LlamaConfig;
  teacherWeights: ReadonlyMap<string, Float32Array>;
  tokenizer: LoadedTokenizer;
  /** Training stream of the embedded corpus (SOTU 1790–2000), for `{ corpus: "sotu" }` text stages. */
  sotu: () => Int32Array;
  cacheDir: string;
  seed: number;
  onTokenize?: (path: string, p: TokenizeProgress) => void;
  log?: (line: string) => void;
}

/** Data read from a recipe stage's files, shared by the runs of a progressive stage. */
export type FileData =
  | { kind: 'windows'; train: PackedWindows; heldOut: PackedWindows; paths: string[] }
  | { kind: 'pairs'; train: TokenizedPair[]; heldOut: TokenizedPair[] }
  | { kind: 'prompts'; prompts: number[][] };

const padOf = (tok: LoadedTokenizer) => tok.eosId ?? 2;

/**
 * Reads the files of a recipe stage (`{ paths }` or SeqKD prompts); null for the embedded corpus. Files of the
 * wrong shape for the stage are @mil/data's BAD_RECORD naming `file:line`; no prompt at all is RECIPE_INVALID.
 *
 * @example const d = await readStageFiles(recipe.stages[2], 'stages[2]', ctx, 128);
 */
export async function readStageFiles(s: RecipeStage, path: string, ctx: RecipeDataContext, seq: number): Promise<FileData | null> {
  const tok = ctx.tokenizer;
  const template = chatTemplateOf(tok);
  if ('corpus' in s.data) return null;
  if ('pseudoLabels' in s.data) {
    const p = s.data.pseudoLabels;
    const room = Math.max(1, seq + 1 - Math.min(p.maxNewTokens, seq));
    const prompts: number[][] = [];
    for await (const ex of readExamples(p.prompts)) {
      const ids =
        ex.kind === 'text'
          ? tok.encode(ex.text)
          : ex.kind === 'chat'
            ? tok.encodeChat(ex.messages.at(-1)?.role === 'assistant' ? ex.messages.slice(0, -1) : ex.messages, { template, addGenerationPrompt: true })
            : typeof ex.prompt === 'string'
              ? tok.encode(ex.prompt)
              : tok.encodeChat(ex.prompt, { template, addGenerationPrompt: true });
      prompts.push(ids.slice(0, room));
    }
    if (prompts.length === 0) throw new RecipeError('RECIPE_INVALID', `${path}.data.pseudoLabels.prompts`, `${path}.data.pseudoLabels.prompts: the files hold no prompt`);
    return { kind: 'prompts', prompts };
  }
  if (s.kind === 'dpo') {
    const pairs = await readPreferencePairs(tok, s.data.paths, { template });
    return { kind: 'pairs', ...pairs };
  }
  const set = await tokenizeToShards({
    data: s.data.paths, tokenizer: tok, tokenizerKey: await tokenizerFolderHash(ctx.teacherDir), cacheDir: ctx.cacheDir, seq, padId: padOf(tok), template,
    onProgress: (p) => ctx.onTokenize?.(path, p),
  });
  return { kind: 'windows', train: await loadShards(set, 'train'), heldOut: await loadShards(set, 'heldOut'), paths: s.data.paths };
}

/** Rows of one pass over a stage's files (for lengths in epochs). */
export function fileRows(d: FileData): number {
  return d.kind === 'windows' ? d.train.count : d.kind === 'pairs' ? d.train.length : d.prompts.length;
}

const tooSmall = (r: ResolvedStage, rows: number, what: string): never => {
  throw new RecipeError('RECIPE_INVALID', `${r.path}.data`, `${r.path}.data: ${rows} ${what} for batches of ${r.batch}; add data or lower the batch`);
};

/**
 * The batches of one run of a recipe stage; `student` is the student as it enters the run (the rejected side of
 * DPO pairs built from the embedded corpus).
 *
 * @example const data = await stageDataSource(runs[i], i, files.get(runs[i].path) ?? null, ctx, student);
 */
export async function stageDataSource(
  r: ResolvedStage, index: number, files: FileData | null, ctx: RecipeDataContext, student: { weights: ReadonlyMap<string, Float32Array>; hybridConfig: HybridConfig },
): Promise<DataSource<TokenBatch>> {
  const { batch, seq } = r;
  const pad = padOf(ctx.tokenizer);
  const opts = { batchSize: batch, dropLast: true };
  const count = r.spec.steps * batch;
  const eos = ctx.tokenizer.eosId ?? undefined;
  const windows = (w: PackedWindows) => {
    if (w.count < batch) tooSmall(r, w.count, 'training windows');
    return arrayDataSource(Array.from({ length: w.count }, (_, i) => i), { ...opts, collate: (rows) => windowBatch(w, rows) });
  };
  const labels = (ls: PseudoLabel[]) => arrayDataSource(ls, { ...opts, collate: (xs) => collatePseudoLabels(xs, seq, pad) });
  if (files?.kind === 'windows') return windows(files.train);
  if (files?.kind === 'pairs') {
    if (files.train.length < batch) tooSmall(r, files.train.length, 'preference pairs');
    return arrayDataSource(files.train, { ...opts, collate: (xs) => collatePairs(xs, seq, pad) });
  }
  if (files?.kind === 'prompts' && 'pseudoLabels' in r.data) {
    // one pass of teacher generations over the run's steps, prompts cycled in order
    const p = r.data.pseudoLabels;
    const prompts = Array.from({ length: count }, (_, i) => files.prompts[i % files.prompts.length]);
    ctx.log?.(`${r.path}: sampling ${count} teacher continuations…`);
    const sampling = { temperature: p.temperature, topK: p.topK ?? 0, topP: p.topP ?? 1, seed: mixSeeds(ctx.seed, 23, index) };
    return labels(await continuations(ctx.teacherConfig, ctx.teacherWeights, prompts, { ...sampling, maxNewTokens: Math.min(p.maxNewTokens, seq) }, ctx, { eosTokenId: eos }));
  }
  // the embedded corpus
  if (r.kind === 'sft') return windows(sotuChatWindows(ctx.tokenizer, { count, seq, seed: ctx.seed }));
  if (r.kind === 'dpo') {
    // chosen: the teacher's continuation; rejected: the student's as it enters the stage (the DPO reference)
    const maxNewTokens = Math.floor(seq / 2);
    const prompts = sotuChatPrompts(ctx.tokenizer, { count, split: 'train', maxTokens: seq - maxNewTokens, seed: ctx.seed });
    const s = { ...EVAL_SAMPLING, maxNewTokens, seed: mixSeeds(ctx.seed, 29, index) };
    ctx.log?.(`${r.path}: ${prompts.length} preference pairs from SOTU chats: teacher (chosen) and student (rejected) continuations…`);
    const chosen = await continuations(ctx.teacherConfig, ctx.teacherWeights, prompts, s, ctx, { eosTokenId: eos });
    const rejected = await continuations(ctx.teacherConfig, student.weights, prompts, s, ctx, { hybrid: student.hybridConfig, eosTokenId: eos });
    const pairs = prompts.map((prompt, i) => ({ prompt, chosen: chosen[i].completion, rejected: rejected[i].completion }));
    return arrayDataSource(pairs, { ...opts, collate: (xs) => collatePairs(xs, seq, pad) });
  }
  const stream = ctx.sotu();
  if (r.kind === 'seqkd') {
    // the paper recipe's SeqKD settings: prompt length and sampling
    const pl = RECIPES.paper.pseudoLabels!;
    const promptLen = Math.max(1, Math.round(seq * pl.promptFraction));
    const starts = tokenWindows(stream.length, promptLen).slice(0, count);
    const prompts = Array.from({ length: count }, (_, i) => Array.from(stream.subarray(starts[i % starts.length].start, starts[i % starts.length].start + promptLen)));
    ctx.log?.(`${r.path}: sampling ${count} teacher continuations of SOTU prompts…`);
    return labels(await continuations(ctx.teacherConfig, ctx.teacherWeights, prompts, { temperature: pl.temperature, topP: pl.topP, topK: pl.topK, maxNewTokens: seq + 1 - promptLen, seed: mixSeeds(ctx.seed, 23, index) }, ctx));
  }
  return arrayDataSource(tokenWindows(stream.length, seq), { ...opts, collate: collateWindows(stream, seq) });
}
