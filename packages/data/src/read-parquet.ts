// Parquet as Hugging Face datasets ship it, one row group at a time, through hyparquet (pure JS) and
// hyparquet-compressors (zstd, gzip, brotli, lz4; snappy is built into hyparquet).
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { DataError, ioError } from './errors';
import { exampleFromRecord, type Example } from './examples';

const KNOWN = ['text', 'messages', 'prompt', 'chosen', 'rejected'];

/**
 * The examples of a Parquet file, one row group in memory at a time, reading only the columns a known shape
 * uses (`text`, `messages`, `prompt`/`chosen`/`rejected`). Sources are `file#row`. `onRows(done, total)` reports
 * progress.
 *
 * @example
 * for await (const ex of readParquet('train-00000-of-00001.parquet')) console.log(ex.kind);
 */
export async function* readParquet(path: string, onRows?: (done: number, total: number) => void): AsyncGenerator<Example> {
  let file;
  let metadata: FileMetaData;
  try {
    file = await asyncBufferFromFile(path);
  } catch (e) {
    throw ioError(e, path, 'opening Parquet');
  }
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (e) {
    throw new DataError('BAD_PARQUET', `${path}: not a Parquet file hyparquet can read (${(e as Error).message})`, { cause: e });
  }
  // top-level columns: children of the root schema element
  const top: string[] = [];
  for (let i = 1, skip = 0; i < metadata.schema.length; i++) {
    if (skip > 0) {
      skip += (metadata.schema[i].num_children ?? 0) - 1;
      continue;
    }
    top.push(metadata.schema[i].name);
    skip = metadata.schema[i].num_children ?? 0;
  }
  const columns = top.filter((c) => KNOWN.includes(c));
  if (columns.length === 0) throw new DataError('BAD_PARQUET', `${path}: no "text", "messages" or "prompt"/"chosen"/"rejected" column (columns: ${top.join(', ')})`);
  const total = Number(metadata.num_rows);
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({ file, metadata, columns, rowStart: start, rowEnd: end, compressors });
    } catch (e) {
      throw new DataError('BAD_PARQUET', `${path}: rows ${start}–${end - 1}: ${(e as Error).message}`, { cause: e });
    }
    for (let i = 0; i < rows.length; i++) yield exampleFromRecord(rows[i], `${path}#${start + i}`);
    start = end;
    onRows?.(start, total);
  }
}
