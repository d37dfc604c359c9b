import { loadBrown } from './brown';
import { loadMobyDick } from './moby-dick';
import { loadSotu, type SotuRange } from './sotu';

/** A document of any corpus, reduced to what training and evaluation need. */
export interface CorpusDocument {
  /** Stable id: "sotu/1790_george_washington_n", "brown/ca01", "moby-dick/chapter_1". */
  id: string;
  text: string;
}

/** The default teacher trains on these years only. */
export const SOTU_TRAIN_YEARS: Readonly<Required<SotuRange>> = Object.freeze({ fromYear: 1790, toYear: 2000 });
/** In-domain held-out years; never trained on. */
export const SOTU_HELD_OUT_YEARS: Readonly<Required<SotuRange>> = Object.freeze({ fromYear: 2001, toYear: 2021 });

/** Training text and the three held-out sets. */
export interface CorpusSplits {
  /** SOTU 1790–2000 (212 speeches). */
  train: CorpusDocument[];
  heldOut: {
    /** SOTU 2001–2021 (21 speeches), in-domain. */
    sotu: CorpusDocument[];
    /** Brown corpus (500 documents), out-of-domain. */
    brown: CorpusDocument[];
    /** Moby Dick chapters 1–135 + epilogue, out-of-domain. */
    mobyDick: CorpusDocument[];
  };
}

const baseName = (file: string): string => file.replace(/^data\//, '').replace(/\.txt$/, '');

/**
 * Loads the fixed train / held-out split of the default teacher: train on SOTU 1790–2000; hold out
 * SOTU 2001–2021, the Brown corpus and Moby Dick. Deterministic (file order).
 *
 * @example
 * const { train, heldOut } = loadSplits();
 * trainBpe(train.map((d) => d.text), { vocabSize: 2048 });
 */
export function loadSplits(): CorpusSplits {
  const sotu = (range: SotuRange): CorpusDocument[] =>
    loadSotu(range).map((s) => ({ id: `sotu/${baseName(s.file)}`, text: s.text }));
  return {
    train: sotu(SOTU_TRAIN_YEARS),
    heldOut: {
      sotu: sotu(SOTU_HELD_OUT_YEARS),
      brown: loadBrown().map((d) => ({ id: `brown/${d.id}`, text: d.text })),
      mobyDick: loadMobyDick().map((c) => ({ id: `moby-dick/${baseName(c.file)}`, text: c.text })),
    },
  };
}
