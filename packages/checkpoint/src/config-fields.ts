// Typed access to the fields of a JSON config, with errors that say which field, in which file, and what
// was expected.
import { CheckpointError } from './errors';

export type Json = Record<string, unknown>;

export function asJsonObject(json: unknown, source: string, what: string): Json {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new CheckpointError('BAD_CONFIG', `${source}: ${what} is not valid JSON (${(e as Error).message})`, { path: source, cause: e });
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CheckpointError('BAD_CONFIG', `${source}: ${what} must be a JSON object`, { path: source });
  }
  return value as Json;
}

/** Reads typed fields from one JSON object; each getter names the field and the expectation when it fails. */
export class FieldReader {
  constructor(
    readonly json: Json,
    readonly source: string,
  ) {}

  fail(field: string, expected: string): never {
    const v = this.json[field];
    const found = v === undefined ? 'it is missing' : `found ${JSON.stringify(v)}`;
    throw new CheckpointError('BAD_CONFIG', `${this.source}: "${field}" must be ${expected}; ${found}`, { path: this.source });
  }

  has(field: string): boolean {
    return this.json[field] !== undefined;
  }

  /** A positive (or, with min 0, non-negative) integer; `fallback` is used when the field is absent or null. */
  int(field: string, opts: { fallback?: number; min?: number } = {}): number {
    const v = this.json[field];
    const min = opts.min ?? 1;
    if ((v === undefined || v === null) && opts.fallback !== undefined) return opts.fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) this.fail(field, `an integer ≥ ${min}`);
    return v as number;
  }

  positive(field: string, fallback?: number): number {
    const v = this.json[field];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(field, 'a positive number');
    return v as number;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.json[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(field, 'true or false');
    return v as boolean;
  }

  string(field: string, fallback?: string): string {
    const v = this.json[field];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v !== 'string') this.fail(field, 'a string');
    return v as string;
  }

  optionalInt(field: string, min = 0): number | null {
    const v = this.json[field];
    if (v === undefined || v === null) return null;
    return this.int(field, { min });
  }

  /** An integer, a list of integers, or null (as `eos_token_id` may be). */
  intOrInts(field: string): number | number[] | null {
    const v = this.json[field];
    if (v === undefined || v === null) return null;
    if (Array.isArray(v)) {
      if (!v.every((x) => Number.isSafeInteger(x) && x >= 0)) this.fail(field, 'an integer or a list of integers');
      return [...(v as number[])];
    }
    return this.int(field, { min: 0 });
  }

  object(field: string): Json | null {
    const v = this.json[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(field, 'an object');
    return v as Json;
  }
}
