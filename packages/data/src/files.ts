// Turning the paths a user gives (files, folders, globs) into a sorted list of data files.
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { DataError, ioError } from './errors';

/** The file kinds @mil/data reads, by extension. */
export type FileFormat = 'text' | 'jsonl' | 'parquet';

const EXTENSIONS: Record<string, FileFormat> = { '.txt': 'text', '.md': 'text', '.text': 'text', '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.parquet': 'parquet' };

/**
 * The format of a data file from its name (`.txt`/`.md` text, `.jsonl`/`.ndjson`, `.parquet`); null when unknown.
 * @example formatOf('train-00000-of-00002.parquet'); // 'parquet'
 */
export function formatOf(path: string): FileFormat | null {
  const m = /\.[^./\\]+$/.exec(path.toLowerCase());
  return m ? (EXTENSIONS[m[0]] ?? null) : null;
}

const GLOB_CHARS = /[*?[{]/;

/** A glob (`*`, `**`, `?`, `[abc]`, `{a,b}`) as a regular expression over '/'-separated relative paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // '**/' matches zero or more folders; a trailing '**' anything
        if (glob[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        re += `(?:${glob.slice(i + 1, end).split(',').map((s) => s.replace(/[.+^$()|\\]/g, '\\$&')).join('|')})`;
        i = end;
      }
    } else re += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

async function listRecursive(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
  } catch (e) {
    throw ioError(e, dir, 'listing a data folder');
  }
}

/**
 * Expands files, folders (every file of a known format below them) and globs into a sorted, de-duplicated list;
 * NOT_FOUND when a path or glob matches nothing, UNKNOWN_FORMAT for a named file of an unknown extension.
 *
 * @example
 * await expandDataPaths(['data/train/*.parquet', 'extra.jsonl']);
 */
export async function expandDataPaths(paths: string | readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  for (const p of typeof paths === 'string' ? [paths] : paths) {
    const norm = p.split(sep).join('/');
    if (GLOB_CHARS.test(norm)) {
      const parts = norm.split('/');
      const firstGlob = parts.findIndex((s) => GLOB_CHARS.test(s));
      const base = parts.slice(0, firstGlob).join('/') || '.';
      const re = globToRegExp(parts.slice(firstGlob).join('/'));
      const hits = (await listRecursive(base)).filter((f) => re.test(relative(base, f).split(sep).join('/')) && formatOf(f) !== null);
      if (hits.length === 0) throw new DataError('NOT_FOUND', `${p}: the glob matches no .txt/.md/.jsonl/.ndjson/.parquet file`);
      hits.forEach((h) => out.add(h));
      continue;
    }
    let s;
    try {
      s = await stat(p);
    } catch (e) {
      throw ioError(e, p, 'looking for data');
    }
    if (s.isDirectory()) {
      const hits = (await listRecursive(p)).filter((f) => formatOf(f) !== null);
      if (hits.length === 0) throw new DataError('NOT_FOUND', `${p}: the folder holds no .txt/.md/.jsonl/.ndjson/.parquet file`);
      hits.forEach((h) => out.add(h));
    } else {
      if (formatOf(p) === null) throw new DataError('UNKNOWN_FORMAT', `${p}: unknown data file extension (expected .txt, .md, .jsonl, .ndjson or .parquet)`);
      out.add(p);
    }
  }
  return [...out].sort();
}
