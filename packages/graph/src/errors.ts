/** Error codes raised by @mil/graph. */
export type GraphErrorCode =
  | 'shape_mismatch'
  | 'dtype_mismatch'
  | 'bad_argument'
  | 'unknown_tensor'
  | 'no_gradient'
  | 'provider_unavailable'
  | 'bad_feed'
  | 'run_failed'
  | 'serialize_failed';

/** The one error class of @mil/graph: `code` says what kind of failure, the message names the node or tensor. */
export class GraphError extends Error {
  readonly code: GraphErrorCode;
  constructor(code: GraphErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GraphError';
    this.code = code;
  }
}
