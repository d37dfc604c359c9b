// The teacher's sizes, resolved once; config errors from @mil/models become WeightTransferErrors.
import { resolveLlamaConfig, type LlamaOracleConfig, type ResolvedLlamaConfig } from '@mil/models';
import { WeightTransferError } from './errors';

/** The teacher config with HF defaults filled in; BAD_CONFIG when @mil/models rejects it. */
export function resolveTeacher(config: LlamaOracleConfig): ResolvedLlamaConfig {
  try {
    return resolveLlamaConfig(config);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new WeightTransferError('BAD_CONFIG', `teacher config: ${detail}`, { cause });
  }
}
