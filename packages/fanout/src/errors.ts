import { MilError } from '@mil/core';

/** Every way the fan-out of teacher signal can fail. */
export type FanoutErrorCode =
  | 'BAD_OPTION'
  | 'CORPUS_MISMATCH'
  | 'SHARD_FAILED'
  | 'MANIFEST_MISMATCH'
  | 'QUEUE_UNREACHABLE'
  | 'JOB_FAILED';

/** The error class of @mil/fanout: the message names the file, shard or queue at fault. */
export class FanoutError extends MilError<FanoutErrorCode> {}
