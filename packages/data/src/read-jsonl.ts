// JSONL, one record per line, read as a stream (memory stays at one line).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { DataError, ioError } from './errors';
import { exampleFromRecord, type Example } from './examples';

/**
 * The examples of a JSONL file, line by line; blank lines are skipped, a line that is not JSON is BAD_JSON and
 * one without a known shape BAD_RECORD, both naming `file:line`. `onBytes` gets the bytes read so far.
 *
 * @example
 * for await (const ex of readJsonl('chat.jsonl')) console.log(ex.kind, ex.source); // chat chat.jsonl:1
 */
export async function* readJsonl(path: string, onBytes?: (bytes: number) => void): AsyncGenerator<Example> {
  const stream = createReadStream(path);
  let failed: unknown = null;
  stream.on('error', (e) => (failed = e));
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      onBytes?.(stream.bytesRead);
      if (text.trim() === '') continue;
      let record: unknown;
      try {
        record = JSON.parse(text);
      } catch (e) {
        throw new DataError('BAD_JSON', `${path}:${line}: not valid JSON (${(e as Error).message})`, { cause: e });
      }
      yield exampleFromRecord(record, `${path}:${line}`);
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw ioError(failed ?? e, path, 'reading JSONL');
  } finally {
    lines.close();
    stream.destroy();
  }
  if (failed) throw ioError(failed, path, 'reading JSONL');
}
