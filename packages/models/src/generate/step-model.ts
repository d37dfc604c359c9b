/** Next-token logits over the vocabulary, for one position. */
export type Logits = Float32Array | Float64Array;

/**
 * The smallest interface a model needs for `generate` (and for speculative decoding later): a stateful
 * single-sequence stepper. Implementations keep their own cache (KV, SSM/conv state) between calls.
 *
 * @example
 * const model: StepModel = {
 *   async prefill(ids) { state = run(ids); return state.lastLogits; },
 *   async decode(id) { state = run([id], state); return state.lastLogits; },
 * };
 */
export interface StepModel {
  /** Resets the state, runs the prompt (at least one token) and resolves to the logits at its last position. */
  prefill(ids: readonly number[]): Promise<Logits>;
  /** Appends one token after everything fed so far and resolves to the logits predicting the token after it. */
  decode(id: number): Promise<Logits>;
}

/** What a session's `forward` returns (`LlamaSession`, `HybridSession`). */
export interface ForwardOptions {
  /**
   * 'all' (default): logits of every new position, [ids.length, vocab] (a verify step, scoring); 'last': only the
   * last position's [vocab] — the LM head then runs on that row alone (a prompt before generation).
   */
  logits?: 'all' | 'last';
}
