// The error class of @mil/eval: a MilError whose codes name what went wrong in an evaluation.
import { MilError } from '@mil/core';

export type EvalErrorCode = 'BAD_MODEL_FOLDER' | 'BAD_TASK_FILE' | 'BAD_OPTION' | 'BAD_INPUT' | 'NO_TOKENIZER';

/**
 * Thrown by @mil/eval for unreadable task files, bad options and model folders it cannot evaluate.
 *
 * @example
 * try { parseMcJsonl(text, 'tasks.jsonl'); } catch (e) { if (e instanceof EvalError && e.code === 'BAD_TASK_FILE') … }
 */
export class EvalError extends MilError<EvalErrorCode> {}
