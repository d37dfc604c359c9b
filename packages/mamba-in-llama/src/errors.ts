import { MilError } from '@mil/core';

/** Every way the `mil` command line itself can fail (errors of the packages it calls keep their own codes). */
export type CliErrorCode =
  /** A flag is missing, unknown or has a value outside what it accepts (exit status 2). */
  | 'BAD_OPTION'
  /** The model folder has no tokenizer.json. */
  | 'NO_TOKENIZER'
  /** A flag's value is outside its range or of the wrong type (exit status 2). */
  | 'BAD_FLAG'
  | 'UNKNOWN_FLAG'
  | 'MISSING_FLAG'
  | 'UNKNOWN_COMMAND'
  | 'BAD_ARGUMENT'
  /** The prompt plus the tokens to generate do not fit the model's context. */
  | 'CONTEXT_OVERFLOW';

/**
 * The error class of the `mil` command line.
 *
 * @example
 * throw new CliError('BAD_OPTION', '--ep must be one of cpu, webgpu, cuda, got tpu');
 */
export class CliError extends MilError<CliErrorCode> {}
