import { MilError } from '@mil/core';

/** Every way @mil/data can fail, as a stable string a caller can switch on. */
export type DataErrorCode =
  | 'NOT_FOUND' // a file, folder or glob that matches nothing
  | 'IO_ERROR' // reading or writing failed
  | 'UNKNOWN_FORMAT' // a file extension or `format` we do not read
  | 'BAD_JSON' // a JSONL line that is not JSON (the message names file:line)
  | 'BAD_RECORD' // a record without the fields of any known shape (text / messages / prompt+chosen+rejected)
  | 'BAD_PARQUET' // a Parquet file the reader rejects, or one without a usable column
  | 'TEMPLATE_NOT_PREFIX_STABLE' // the chat template renders a conversation's prefix differently from the whole
  | 'BAD_OPTION' // an option out of range (seq, fraction, …)
  | 'BAD_CACHE'; // a cache entry whose manifest or shards do not match

/**
 * The error @mil/data throws; `message` names the file (and line or row) at fault.
 *
 * @example
 * try { for await (const ex of readExamples('data/*.jsonl')) use(ex); }
 * catch (e) { if (e instanceof DataError && e.code === 'BAD_JSON') console.error(e.message); }
 */
export class DataError extends MilError<DataErrorCode> {}

export function ioError(e: unknown, path: string, doing: string): DataError {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT') return new DataError('NOT_FOUND', `${path}: no such file (${doing})`, { cause: e });
  return new DataError('IO_ERROR', `${path}: ${doing} failed: ${err?.message ?? String(e)}`, { cause: e });
}
