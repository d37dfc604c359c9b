import { MilError } from '@mil/core';

/** Error codes raised by @mil/graph. */
export type GraphErrorCode =
  | 'SHAPE_MISMATCH'
  | 'DTYPE_MISMATCH'
  | 'BAD_OPTION'
  | 'UNKNOWN_TENSOR'
  | 'NO_GRADIENT'
  | 'PROVIDER_UNAVAILABLE'
  | 'PROVIDER_INSTALL_FAILED'
  | 'PROVIDER_MISMATCH'
  | 'BAD_FEED'
  | 'RUN_FAILED'
  | 'SERIALIZE_FAILED';

/** The one error class of @mil/graph: `code` says what kind of failure, the message names the node or tensor. */
export class GraphError extends MilError<GraphErrorCode> {}
