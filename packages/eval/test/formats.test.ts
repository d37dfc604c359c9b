import { describe, it, expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { detectFormat, EvalError, parseCsv, parseTaskFile, parseArc } from '../src/index';
import { readFileSync } from 'node:fs';

const fx = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));

describe('upstream task formats', () => {
  it('HellaSwag: activity label, ctx_a + capitalised ctx_b, preprocessed endings', () => {
    const items = parseTaskFile(fx('hellaswag.jsonl'));
    expect(items).toHaveLength(5);
    expect(items[0]).toEqual({ context: 'Baking cookies: A woman pours flour into a bowl. She', choices: [' cracks two eggs into the flour and stirs.', ' throws the bowl at the ceiling.', ' drives a car down the road.', ' paints the bowl blue. and sings.'], gold: 0 });
    expect(items.map((i) => i.gold)).toEqual([0, 1, 2, 3, 0]);
  });
  it('ARC: both the AI2 and the HF shapes; numeric labels', () => {
    const items = parseTaskFile(fx('arc.jsonl'));
    expect(items.map((i) => i.gold)).toEqual([1, 0, 2, 1, 3]);
    expect(items[0].context).toBe('Question: Which part of a plant takes in water from the soil?\nAnswer:');
    expect(items[3].choices).toEqual([' its own fire', ' reflected sunlight', ' city lights', ' volcanoes']);
    expect(items[1].choices).toHaveLength(3);
  });
  it('PIQA', () => {
    const items = parseTaskFile(fx('piqa.jsonl'));
    expect(items.map((i) => i.gold)).toEqual([0, 1, 0, 1, 0]);
    expect(items[1]).toEqual({ context: 'Question: To keep bread fresh longer,\nAnswer:', choices: [' leave it in the sun.', ' store it in a closed bag.'], gold: 1 });
  });
  it('WinoGrande: the option fills the blank, the rest is the shared continuation', () => {
    const items = parseTaskFile(fx('winogrande.jsonl'));
    expect(items.map((i) => i.gold)).toEqual([0, 1, 1, 0, 0]);
    expect(items[0].contexts).toEqual(['The trophy did not fit in the suitcase because the trophy', 'The trophy did not fit in the suitcase because the suitcase']);
    expect(items[0].choices).toEqual([' was too big.', ' was too big.']);
  });
  it('LAMBADA: last word as the one greedy choice', () => {
    const items = parseTaskFile(fx('lambada.jsonl'));
    expect(items).toHaveLength(5);
    expect(items[0]).toEqual({ context: 'She handed him the key to the old house. He turned it slowly in the lock and pushed open the door of the', choices: [' house'], gold: 0 });
    expect(items[3].choices).toEqual([' compass']);
  });
  it('MMLU CSV: quoted fields, lettered prompt, subject line from the file name', () => {
    const items = parseTaskFile(fx('astronomy_test.csv'));
    expect(items.map((i) => i.gold)).toEqual([1, 2, 0, 3, 1]);
    expect(items[1].context).toBe('The following are multiple choice questions (with answers) about astronomy.\n\nWhich planet is known as the "Red Planet"?\nA. Venus\nB. Jupiter\nC. Mars\nD. Saturn\nAnswer:');
    expect(items[4].context).toContain("B. The Moon's changing position relative to the Sun and Earth, seen from Earth\n");
    expect(items[0].choices).toEqual([' A', ' B', ' C', ' D']);
  });
  it('CSV parser: quotes, doubled quotes, CRLF, commas inside quotes', () => {
    expect(parseCsv('a,"b,c","d ""e"""\r\n1,2,3\n')).toEqual([['a', 'b,c', 'd "e"'], ['1', '2', '3']]);
  });
  it('detects formats by name and by first record; errors name file and line', () => {
    expect(detectFormat('x/arc_easy.jsonl', '')).toBe('arc');
    expect(detectFormat('x/mine.jsonl', '{"context":"a","choices":["b"],"gold":0}')).toBe('mc');
    expect(detectFormat('x/mine.jsonl', '{"goal":"a","sol1":"b","sol2":"c"}')).toBe('piqa');
    expect(detectFormat(fx('hellaswag.jsonl'), readFileSync(fx('hellaswag.jsonl'), 'utf8'))).toBe('hellaswag');
    expect(() => parseArc('{"question":{"stem":"q","choices":[{"text":"a","label":"A"},{"text":"b","label":"B"}]},"answerKey":"E"}', 'bad.jsonl')).toThrow(/bad.jsonl:1/);
    try {
      parseTaskFile('/nonexistent/file.jsonl');
    } catch (e) {
      expect(e).toBeInstanceOf(EvalError);
      expect((e as EvalError).code).toBe('BAD_TASK_FILE');
    }
  });
  it('the shipped offline tasks parse: 100 items, 4 choices each', () => {
    for (const f of ['sotu-lastword.jsonl', 'sotu-nextsent.jsonl']) {
      const items = parseTaskFile(fileURLToPath(new URL(`../data/${f}`, import.meta.url)));
      expect(items).toHaveLength(100);
      expect(items.every((i) => i.choices.length === 4)).toBe(true);
      const golds = new Set(items.map((i) => i.gold));
      expect(golds.size).toBe(4);
    }
  });
});
