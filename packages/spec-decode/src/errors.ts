import { MilError } from '@mil/core';

/**
 * What went wrong in speculative decoding:
 * - BAD_OPTION: an option is out of range (k, maxNewTokens, sampling, eos, stopStrings without decode, maxLength…);
 * - BAD_INPUT: the prompt is empty or holds ids outside the vocabulary;
 * - BAD_LOGITS: logits or a distribution cannot be sampled (NaN, +Infinity, all masked, wrong length);
 * - BAD_PROPOSAL: a drafter returned more tokens than asked, ids outside the vocabulary or probabilities of the wrong shape;
 * - BAD_STATE: a target or draft model holds a different number of tokens than the loop fed it;
 * - CONTEXT_FULL: the next token would need more than `maxLength` tokens in the target;
 * - ABORTED: the AbortSignal fired.
 */
export type SpecDecodeErrorCode =
  | 'BAD_OPTION'
  | 'BAD_INPUT'
  | 'BAD_LOGITS'
  | 'BAD_PROPOSAL'
  | 'BAD_STATE'
  | 'CONTEXT_FULL'
  | 'ABORTED';

/**
 * The error class of @mil/spec-decode.
 *
 * @example
 * try { await decodeAll(speculativeDecode(target, drafter, prompt, { maxNewTokens: 64, maxLength: 512 })); }
 * catch (e) { if (e instanceof SpecDecodeError && e.code === 'CONTEXT_FULL') console.error(e.message); }
 */
export class SpecDecodeError extends MilError<SpecDecodeErrorCode> {}

/** Throws ABORTED (cause: the signal's reason) when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, where: string): void {
  if (signal?.aborted) {
    throw new SpecDecodeError('ABORTED', `${where}: aborted by the AbortSignal`, { cause: signal.reason });
  }
}
