import { MilError } from '@mil/core';

/** Every way this package can fail, as a stable string a caller can switch on. */
export type CheckpointErrorCode =
  // files and I/O
  | 'NOT_FOUND'
  | 'IO_ERROR'
  | 'NOT_REGULAR_FILE'
  | 'SYMLINK_LOOP'
  | 'FILE_TOO_LARGE'
  | 'TOO_LARGE_FOR_MEMORY'
  // safetensors header
  | 'HEADER_TOO_SMALL'
  | 'HEADER_TOO_LARGE'
  | 'HEADER_OUT_OF_BOUNDS'
  | 'BAD_HEADER'
  | 'BAD_TENSOR_INFO'
  | 'BAD_METADATA'
  | 'UNKNOWN_DTYPE'
  | 'SIZE_MISMATCH'
  | 'BAD_OFFSETS'
  | 'OFFSET_OUT_OF_BOUNDS'
  | 'OVERLAPPING_RANGES'
  | 'DATA_GAP'
  | 'TRAILING_DATA'
  | 'DUPLICATE_TENSOR'
  // reading tensors
  | 'TENSOR_NOT_FOUND'
  | 'NON_FINITE'
  | 'UNSUPPORTED_CONVERSION'
  | 'TRUNCATED'
  | 'CLOSED'
  // sharded checkpoints
  | 'BAD_INDEX'
  | 'INDEX_MISMATCH'
  // writing
  | 'BAD_TENSOR'
  | 'BAD_OPTION'
  // configs
  | 'BAD_CONFIG'
  | 'UNKNOWN_MODEL_TYPE'
  | 'UNSUPPORTED_CONFIG'
  // tokenizers and chat templates
  | 'BAD_TOKENIZER'
  | 'NO_CHAT_TEMPLATE'
  | 'CHAT_TEMPLATE_ERROR';

/**
 * The one error class of `@mil/checkpoint`. `code` says what went wrong, `path` names the file at fault
 * (when there is one) and `cause` carries the underlying error.
 *
 * @example
 * try { await openSafetensors('model.safetensors'); }
 * catch (e) { if (e instanceof CheckpointError && e.code === 'NOT_FOUND') console.log('no weights yet'); }
 */
export class CheckpointError extends MilError<CheckpointErrorCode> {
  readonly path?: string;

  constructor(code: CheckpointErrorCode, message: string, options: { path?: string; cause?: unknown; hint?: string } = {}) {
    super(code, message, options);
    if (options.path !== undefined) this.path = options.path;
  }
}

/** Wraps a Node fs error: ENOENT becomes NOT_FOUND, everything else IO_ERROR. */
export function ioError(err: unknown, path: string, what: string): CheckpointError {
  if (err instanceof CheckpointError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new CheckpointError('NOT_FOUND', `${what}: ${path} does not exist`, { path, cause: err });
  if (code === 'ELOOP') return new CheckpointError('SYMLINK_LOOP', `${what}: ${path} is a symbolic link loop`, { path, cause: err });
  const detail = err instanceof Error ? err.message : String(err);
  return new CheckpointError('IO_ERROR', `${what}: ${path}: ${detail}`, { path, cause: err });
}
