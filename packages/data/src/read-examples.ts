// Every example of a list of files, folders and globs, whatever their format, with progress.
import { readFile, stat } from 'node:fs/promises';
import { DataError, ioError } from './errors';
import { type Example } from './examples';
import { expandDataPaths, formatOf } from './files';
import { readJsonl } from './read-jsonl';
import { readParquet } from './read-parquet';

export interface ReadProgress {
  file: string;
  /** 0-based index of `file` among `files`. */
  fileIndex: number;
  files: number;
  /** Fraction of the current file read (bytes for text/JSONL, rows for Parquet). */
  fileFraction: number;
  /** Examples yielded so far, all files together. */
  examples: number;
}

export interface ReadExamplesOptions {
  onProgress?: (p: ReadProgress) => void;
}

/**
 * Reads examples from files, folders and globs: `.txt`/`.md` (one text example per file), `.jsonl`/`.ndjson`
 * (`text`, `messages` or `prompt`/`chosen`/`rejected` records) and `.parquet` (the same columns), in sorted
 * path order, streaming.
 *
 * @example
 * for await (const ex of readExamples(['data/*.jsonl', 'hf/train-*.parquet'], { onProgress: (p) => log(p) })) use(ex);
 */
export async function* readExamples(paths: string | readonly string[], opts: ReadExamplesOptions = {}): AsyncGenerator<Example> {
  const files = await expandDataPaths(paths);
  let examples = 0;
  for (let fileIndex = 0; fileIndex < files.length; fileIndex++) {
    const file = files[fileIndex];
    const report = (fileFraction: number) => opts.onProgress?.({ file, fileIndex, files: files.length, fileFraction, examples });
    const format = formatOf(file);
    if (format === 'text') {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        throw ioError(e, file, 'reading text');
      }
      examples++;
      yield { kind: 'text', text, source: file };
    } else if (format === 'jsonl') {
      let size = 1;
      try {
        size = Math.max(1, (await stat(file)).size);
      } catch (e) {
        throw ioError(e, file, 'reading JSONL');
      }
      for await (const ex of readJsonl(file, (b) => report(Math.min(1, b / size)))) {
        examples++;
        yield ex;
      }
    } else if (format === 'parquet') {
      for await (const ex of readParquet(file, (d, t) => report(t ? d / t : 1))) {
        examples++;
        yield ex;
      }
    } else throw new DataError('UNKNOWN_FORMAT', `${file}: unknown data file extension`);
    report(1);
  }
}
