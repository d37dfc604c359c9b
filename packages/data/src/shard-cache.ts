// Tokenised, packed shards on disk (safetensors), keyed by tokenizer + file contents + settings, so a second run
// on the same data starts at once. An entry is a folder renamed into place only when complete.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openSafetensors, writeFileAtomic, writeSafetensors, type LoadedTokenizer } from '@mil/checkpoint';
import { DataError, ioError } from './errors';
import { expandDataPaths } from './files';
import { readExamples } from './read-examples';
import { isHeldOut } from './split';
import { tokenizeExample, type TokenizeOptions } from './tokenize';
import { joinWindows, WindowPacker, type PackedWindows } from './pack';

/** Bump when the shard layout or tokenisation rules change: old entries are then never read. */
const CACHE_FORMAT = 1;

/**
 * SHA-256 of a file's bytes, streamed.
 * @example await fileSha256('data/train.jsonl'); // '3b1f…'
 */
export async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  } catch (e) {
    throw ioError(e, path, 'hashing');
  }
  return h.digest('hex');
}

/**
 * A key for a tokenizer folder: SHA-256 over tokenizer.json, tokenizer_config.json, special_tokens_map.json and
 * chat_template.jinja (absent files count as absent), i.e. everything that changes token ids or templates.
 *
 * @example const key = await tokenizerFolderHash('models/llama');
 */
export async function tokenizerFolderHash(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const name of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja']) {
    h.update(`${name}\0`);
    try {
      h.update(await readFile(join(dir, name)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(e, join(dir, name), 'hashing tokenizer');
      h.update('\0absent\0');
    }
  }
  return h.digest('hex');
}

export interface TokenizeProgress {
  phase: 'hashing' | 'tokenizing' | 'cached';
  file: string;
  fileIndex: number;
  files: number;
  fileFraction: number;
  examples: number;
  tokens: number;
  windows: number;
}

export interface ShardOptions extends TokenizeOptions {
  /** Files, folders, globs of text / JSONL / chat JSONL / Parquet (preference pairs are refused). */
  data: string | readonly string[];
  tokenizer: LoadedTokenizer;
  /** Identifies the tokenizer, e.g. {@link tokenizerFolderHash}. */
  tokenizerKey: string;
  cacheDir: string;
  seq: number;
  /** Fraction of examples held out, by content hash (default 0.01). */
  heldOutFraction?: number;
  /** Windows per shard file (default 4096), which bounds memory while tokenising. */
  windowsPerShard?: number;
  padId?: number;
  onProgress?: (p: TokenizeProgress) => void;
}

export interface ShardSplit {
  files: string[];
  windows: number;
}

/** A cache entry (its manifest.json). */
export interface ShardSet {
  format: number;
  key: string;
  dir: string;
  seq: number;
  examples: { train: number; heldOut: number };
  tokens: number;
  train: ShardSplit;
  heldOut: ShardSplit;
  /** True when this call found the entry instead of writing it. */
  fromCache: boolean;
}

/**
 * Tokenises, splits and packs the data into safetensors shards under `cacheDir/<key>/` (tensors `tokens` I32 and
 * `mask` U8, [windows, seq + 1]); returns the existing entry when the key (tokenizer + every file's SHA-256 +
 * settings) matches. Held-out examples are packed into their own windows.
 *
 * @example
 * const set = await tokenizeToShards({ data: 'data/*.jsonl', tokenizer: tok, tokenizerKey: await tokenizerFolderHash(dir), cacheDir: '.cache/mil', seq: 256 });
 * const train = await loadShards(set, 'train');
 */
export async function tokenizeToShards(o: ShardOptions): Promise<ShardSet> {
  const files = await expandDataPaths(o.data);
  const heldOutFraction = o.heldOutFraction ?? 0.01;
  const perShard = o.windowsPerShard ?? 4096;
  if (!Number.isInteger(perShard) || perShard < 1) throw new DataError('BAD_OPTION', `windowsPerShard must be an integer >= 1, got ${perShard}`);
  const hashes: string[] = [];
  for (let i = 0; i < files.length; i++) {
    o.onProgress?.({ phase: 'hashing', file: files[i], fileIndex: i, files: files.length, fileFraction: 0, examples: 0, tokens: 0, windows: 0 });
    hashes.push(await fileSha256(files[i]));
  }
  const settings = { seq: o.seq, heldOutFraction, perShard, padId: o.padId ?? 0, appendEos: o.appendEos ?? true, template: o.template ?? null, extra: o.extra ?? null };
  const key = createHash('sha256').update(JSON.stringify({ format: CACHE_FORMAT, tokenizer: o.tokenizerKey, files: hashes, settings })).digest('hex').slice(0, 32);
  const dir = join(o.cacheDir, key);
  const existing = await readManifest(dir);
  if (existing) {
    o.onProgress?.({ phase: 'cached', file: '', fileIndex: files.length, files: files.length, fileFraction: 1, examples: existing.examples.train + existing.examples.heldOut, tokens: existing.tokens, windows: existing.train.windows + existing.heldOut.windows });
    return { ...existing, dir, fromCache: true };
  }

  await mkdir(o.cacheDir, { recursive: true }).catch((e) => {
    throw ioError(e, o.cacheDir, 'creating the cache folder');
  });
  const tmp = join(o.cacheDir, `.${key}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp);
  try {
    const splits = {
      train: { name: 'train', packer: new WindowPacker({ seq: o.seq, padId: o.padId }), pending: [] as { tokens: Int32Array; mask: Uint8Array }[], files: [] as string[], windows: 0 },
      heldOut: { name: 'heldout', packer: new WindowPacker({ seq: o.seq, padId: o.padId }), pending: [] as { tokens: Int32Array; mask: Uint8Array }[], files: [] as string[], windows: 0 },
    };
    type Split = (typeof splits)['train'];
    const flush = async (s: Split, all: boolean) => {
      while (s.pending.length >= perShard || (all && s.pending.length > 0)) {
        const part = joinWindows(s.pending.splice(0, perShard), o.seq);
        const name = `${s.name}-${String(s.files.length).padStart(5, '0')}.safetensors`;
        await writeSafetensors(join(tmp, name), {
          tokens: { dtype: 'I32', shape: [part.count, o.seq + 1], data: part.tokens },
          mask: { dtype: 'U8', shape: [part.count, o.seq + 1], data: part.mask },
        }, { metadata: { seq: String(o.seq) } });
        s.files.push(name);
        s.windows += part.count;
      }
    };
    let examples = 0;
    let heldOutExamples = 0;
    let tokens = 0;
    let progress = { file: '', fileIndex: 0, files: files.length, fileFraction: 0 };
    for await (const ex of readExamples(files, { onProgress: (p) => (progress = p) })) {
      const s = isHeldOut(ex, heldOutFraction) ? splits.heldOut : splits.train;
      if (s === splits.heldOut) heldOutExamples++;
      const seq = tokenizeExample(o.tokenizer, ex, o);
      examples++;
      tokens += seq.ids.length;
      s.pending.push(...s.packer.push(seq));
      await flush(s, false);
      o.onProgress?.({ phase: 'tokenizing', ...progress, examples, tokens, windows: splits.train.windows + splits.heldOut.windows + splits.train.pending.length + splits.heldOut.pending.length });
    }
    for (const s of [splits.train, splits.heldOut]) {
      s.pending.push(...s.packer.finish());
      await flush(s, true);
    }
    const manifest: Omit<ShardSet, 'dir' | 'fromCache'> = {
      format: CACHE_FORMAT, key, seq: o.seq,
      examples: { train: examples - heldOutExamples, heldOut: heldOutExamples }, tokens,
      train: { files: splits.train.files, windows: splits.train.windows },
      heldOut: { files: splits.heldOut.files, windows: splits.heldOut.windows },
    };
    await writeFileAtomic(join(tmp, 'manifest.json'), `${JSON.stringify({ ...manifest, settings, sources: files.map((f, i) => ({ file: f, sha256: hashes[i] })) }, null, 2)}\n`);
    try {
      await rename(tmp, dir);
    } catch (e) {
      // another process finished the same entry first: use theirs
      const theirs = await readManifest(dir);
      if (!theirs) throw ioError(e, dir, 'moving the cache entry into place');
      await rm(tmp, { recursive: true, force: true });
      return { ...theirs, dir, fromCache: true };
    }
    return { ...manifest, dir, fromCache: false };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function readManifest(dir: string): Promise<Omit<ShardSet, 'dir' | 'fromCache'> | null> {
  let text: string;
  try {
    text = await readFile(join(dir, 'manifest.json'), 'utf8');
  } catch {
    return null;
  }
  let m: Omit<ShardSet, 'dir' | 'fromCache'>;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new DataError('BAD_CACHE', `${join(dir, 'manifest.json')}: not valid JSON; delete the folder to rebuild it`, { cause: e });
  }
  return m.format === CACHE_FORMAT ? m : null;
}

/**
 * Reads one split of a shard set back into memory.
 * @example const { count, tokens, mask } = await loadShards(set, 'heldOut');
 */
export async function loadShards(set: Pick<ShardSet, 'dir' | 'seq' | 'train' | 'heldOut'>, split: 'train' | 'heldOut'): Promise<PackedWindows> {
  const part = set[split];
  const width = set.seq + 1;
  const tokens = new Int32Array(part.windows * width);
  const mask = new Uint8Array(part.windows * width);
  let row = 0;
  for (const name of part.files) {
    const f = await openSafetensors(join(set.dir, name));
    try {
      const shape = f.info('tokens').shape;
      if (shape.length !== 2 || shape[1] !== width || row + shape[0] > part.windows) {
        throw new DataError('BAD_CACHE', `${join(set.dir, name)}: tokens shape [${shape}] does not match the manifest (seq ${set.seq}, ${part.windows} windows)`);
      }
      tokens.set((await f.read('tokens')) as Int32Array, row * width);
      mask.set((await f.read('mask')) as Uint8Array, row * width);
      row += shape[0];
    } finally {
      await f.close();
    }
  }
  if (row !== part.windows) throw new DataError('BAD_CACHE', `${set.dir}: ${split} shards hold ${row} windows, the manifest says ${part.windows}`);
  return { seq: set.seq, count: row, tokens, mask };
}
