// Public API of @mil/checkpoint: safetensors, Hugging Face / hybrid configs, tokenizers, chat templates.
export { CheckpointError, type CheckpointErrorCode } from './errors';
export {
  type StDtype,
  type RawTypedArray,
  type RawArrayOf,
  ST_DTYPES,
  isStDtype,
  dtypeByteSize,
  rawView,
  bf16ToF32,
  f32ToBf16,
  f16ToF32,
  f32ToF16,
  toFloat32,
  toFloat16,
} from './dtypes';
export { openSafetensors, parseSafetensors, type SafetensorsFile, type TensorInfo, type OpenOptions } from './safetensors-reader';
export type { ReadAs, ReadOptions } from './tensor-read';
export { DEFAULT_MAX_HEADER_BYTES } from './safetensors-header';
export { openCheckpoint, type Checkpoint } from './checkpoint';
export { writeSafetensors, serializeSafetensors, shardFileName, planShards, type WriteOptions, type WriteResult, type WriteProgress } from './safetensors-writer';
export type { TensorToWrite, TensorsToWrite, TensorData } from './tensor-input';
export { writeFileAtomic, writableFolderProblem } from './atomic-file';
export { parseLlamaConfig, llamaConfigToJson, type LlamaConfig, type LlamaModelType, type RopeScaling } from './llama-config';
export {
  parseMambaHybridConfig,
  hybridConfigToJson,
  checkHybridMatchesTeacher,
  type HybridConfig,
  type HybridVariant,
  type ParseHybridOptions,
  type SsmConfig,
} from './hybrid-config';
export { loadTokenizer, createTokenizer, type LoadedTokenizer, type TokenizerFiles, type EncodeOptions, type DecodeOptions } from './tokenizer';
export { renderChatTemplate, type ChatMessage, type ChatTemplateOptions } from './chat-template';
export { loadModelFolder, saveModelFolder, type ModelFolder, type LoadModelFolderOptions, type SaveModelFolderOptions } from './model-folder';
export { CONFIG_LIMITS, checkLlamaConfigBounds, checkHybridConfigBounds, modelMemory, checkModelFitsMemory, defaultMemoryLimit, type ModelMemory } from './config-bounds';
export { checkRegularFile, readSmallTextFile, MAX_CONFIG_BYTES, MAX_TOKENIZER_BYTES } from './safe-read';
export { checkTokenizerJson, checkTokenizerFitsVocab } from './tokenizer-checks';
