// Parsers from the upstream files of the standard multiple-choice tasks to `McItem`s, with the prompts
// lm-evaluation-harness uses for them. Users with the real files point `mil eval mc` at them.
import { EvalError } from './eval-error';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseMcJsonl, type McItem } from './tasks/mc';

/** Formats `parseTaskFile` understands. */
export const TASK_FORMATS = ['mc', 'hellaswag', 'arc', 'piqa', 'winogrande', 'lambada', 'mmlu'] as const;
export type TaskFormat = (typeof TASK_FORMATS)[number];

type Json = Record<string, unknown>;

function jsonl(text: string, file: string): Json[] {
  return text.split('\n').filter((l) => l.trim()).map((l, i) => {
    try {
      return JSON.parse(l) as Json;
    } catch (e) {
      throw new EvalError('BAD_TASK_FILE', `${file}:${i + 1}: not JSON`, { cause: e });
    }
  });
}

function need<T>(ok: boolean, v: T, file: string, line: number, what: string): T {
  if (!ok) throw new EvalError('BAD_TASK_FILE', `${file}:${line}: expected ${what}`);
  return v;
}

const str = (v: unknown): v is string => typeof v === 'string';

/** lm-eval's HellaSwag clean-up: drop " [title]" and bracketed tags, squeeze double spaces. */
function hellaswagPreprocess(text: string): string {
  return text.trim().replace(' [title]', '. ').replace(/\[.*?\]/g, '').replace(/ {2}/g, ' ');
}

/**
 * HellaSwag JSONL (`ctx_a`, `ctx_b` or `ctx`, `endings`, `label`, `activity_label`): "{activity}: {ctx}" then
 * " {ending}".
 *
 * @example
 * parseHellaswag('{"activity_label":"Baking","ctx_a":"She","ctx_b":"mixes","endings":["a","b","c","d"],"label":2}', 'hs.jsonl');
 */
export function parseHellaswag(text: string, file: string): McItem[] {
  return jsonl(text, file).map((o, i) => {
    const ctx = str(o.ctx_a) ? `${o.ctx_a} ${str(o.ctx_b) ? o.ctx_b.charAt(0).toUpperCase() + o.ctx_b.slice(1) : ''}` : o.ctx;
    const endings = o.endings as unknown;
    need(str(ctx) && Array.isArray(endings) && endings.every(str) && o.label !== undefined, 0, file, i + 1, 'a HellaSwag object with ctx (or ctx_a/ctx_b), endings[] and label');
    const gold = Number(o.label);
    need(Number.isInteger(gold) && gold >= 0 && gold < (endings as string[]).length, 0, file, i + 1, 'label to index endings');
    return { context: hellaswagPreprocess(`${str(o.activity_label) ? o.activity_label : ''}: ${ctx as string}`), choices: (endings as string[]).map((e) => ` ${hellaswagPreprocess(e)}`), gold };
  });
}

/**
 * ARC JSONL, either AI2's file shape (`question.stem`, `question.choices[{text,label}]`, `answerKey`) or the HF
 * dataset shape (`question`, `choices.text[]`, `choices.label[]`, `answerKey`): "Question: …\nAnswer:" then " {text}".
 *
 * @example
 * parseArc('{"question":{"stem":"Sky?","choices":[{"text":"blue","label":"A"},{"text":"red","label":"B"}]},"answerKey":"A"}', 'arc.jsonl');
 */
export function parseArc(text: string, file: string): McItem[] {
  return jsonl(text, file).map((o, i) => {
    const q = o.question as Json | string;
    let stem: unknown, texts: unknown[], labels: unknown[];
    if (str(q)) {
      const c = (o.choices ?? {}) as Json;
      [stem, texts, labels] = [q, (c.text as unknown[]) ?? [], (c.label as unknown[]) ?? []];
    } else {
      const cs = ((q ?? {}) as Json).choices as Json[] | undefined;
      [stem, texts, labels] = [(q as Json | undefined)?.stem, (cs ?? []).map((c) => c.text), (cs ?? []).map((c) => c.label)];
    }
    const gold = labels.map(String).indexOf(String(o.answerKey));
    need(str(stem) && texts.length > 1 && texts.every(str) && gold >= 0, 0, file, i + 1, 'an ARC object with a question, choices and an answerKey among the choice labels');
    return { context: `Question: ${stem as string}\nAnswer:`, choices: (texts as string[]).map((t) => ` ${t}`), gold };
  });
}

/**
 * PIQA JSONL (`goal`, `sol1`, `sol2`, `label`; upstream keeps labels in a separate .lst file, give them in
 * `labels` then): "Question: {goal}\nAnswer:" then " {sol}".
 *
 * @example
 * parsePiqa('{"goal":"Open a jar","sol1":"twist the lid","sol2":"eat the lid","label":0}', 'piqa.jsonl');
 */
export function parsePiqa(text: string, file: string, labels?: readonly number[]): McItem[] {
  return jsonl(text, file).map((o, i) => {
    const gold = Number(labels ? labels[i] : o.label);
    need(str(o.goal) && str(o.sol1) && str(o.sol2) && (gold === 0 || gold === 1), 0, file, i + 1, 'a PIQA object with goal, sol1, sol2 and label 0 or 1');
    return { context: `Question: ${o.goal as string}\nAnswer:`, choices: [` ${o.sol1 as string}`, ` ${o.sol2 as string}`], gold };
  });
}

/**
 * WinoGrande JSONL (`sentence` with one `_`, `option1`, `option2`, `answer` "1"/"2"), scored as lm-eval does
 * ("partial evaluation"): the option fills the blank in the context, the rest of the sentence is the shared
 * continuation.
 *
 * @example
 * parseWinogrande('{"sentence":"The cup fell off the table because _ was tilted.","option1":"the cup","option2":"the table","answer":"2"}', 'wg.jsonl');
 */
export function parseWinogrande(text: string, file: string): McItem[] {
  return jsonl(text, file).map((o, i) => {
    const s = o.sentence;
    const at = str(s) ? s.indexOf('_') : -1;
    const gold = Number(o.answer) - 1;
    need(at >= 0 && str(o.option1) && str(o.option2) && (gold === 0 || gold === 1), 0, file, i + 1, 'a WinoGrande object with a sentence holding "_", option1, option2 and answer "1" or "2"');
    const sent = s as string;
    const cont = ` ${sent.slice(at + 1).trim()}`;
    const contexts = [o.option1 as string, o.option2 as string].map((opt) => sent.slice(0, at) + opt);
    return { context: contexts[0], contexts, choices: [cont, cont], gold };
  });
}

/**
 * LAMBADA JSONL (`text`): the context is all but the last word, the only "choice" is " {last word}", scored
 * greedily (correct when every token of the word is the model's argmax).
 *
 * @example
 * parseLambada('{"text":"He put the key in the lock and turned the key"}', 'lambada.jsonl');
 */
export function parseLambada(text: string, file: string): McItem[] {
  return jsonl(text, file).map((o, i) => {
    const t = need(str(o.text) && /\S\s+\S/.test(o.text as string), (o.text as string)?.trimEnd(), file, i + 1, 'a LAMBADA object with a "text" of two or more words');
    const cut = t.lastIndexOf(' ');
    return { context: t.slice(0, cut), choices: [t.slice(cut)], gold: 0 };
  });
}

/** RFC-4180 CSV rows (quoted fields, doubled quotes, CRLF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') q = false;
      else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field), rows.push(row), (row = []), (field = '');
    } else field += c;
  }
  if (field !== '' || row.length) row.push(field), rows.push(row);
  return rows.filter((r) => r.some((f) => f !== ''));
}

/**
 * MMLU CSV (no header: question, A, B, C, D, answer letter), lm-eval's prompt: "{question}\nA. …\nB. …\nC. …\nD. …\nAnswer:"
 * then " A" / " B" / " C" / " D". `subject` adds lm-eval's description line.
 *
 * @example
 * parseMmluCsv('What is 2+2?,3,4,5,6,B\n', 'math_test.csv');
 */
export function parseMmluCsv(text: string, file: string, subject?: string): McItem[] {
  const head = subject ? `The following are multiple choice questions (with answers) about ${subject.replace(/_/g, ' ')}.\n\n` : '';
  return parseCsv(text).map((r, i) => {
    const gold = 'ABCD'.indexOf((r[5] ?? '').trim());
    need(r.length >= 6 && gold >= 0, 0, file, i + 1, 'an MMLU row: question, four choices, answer letter A–D');
    return { context: `${head}${r[0].trim()}\n${['A', 'B', 'C', 'D'].map((l, j) => `${l}. ${r[j + 1].trim()}`).join('\n')}\nAnswer:`, choices: [' A', ' B', ' C', ' D'], gold };
  });
}

/**
 * Guesses a task file's format from its name (hellaswag / arc / piqa / winogrande / lambada / .csv → mmlu) and
 * its first record; `mc` is the lm-eval shape (`context`, `choices`, `gold`).
 *
 * @example
 * detectFormat('data/arc_easy_test.jsonl', firstLine); // 'arc'
 */
export function detectFormat(file: string, text: string): TaskFormat {
  const name = file.toLowerCase().split('/').pop()!;
  if (name.endsWith('.csv')) return 'mmlu';
  for (const f of ['hellaswag', 'arc', 'piqa', 'winogrande', 'lambada'] as const) if (name.includes(f)) return f;
  const first = (text.split('\n').find((l) => l.trim()) ?? '{}').trim();
  let o: Json = {};
  try {
    o = JSON.parse(first) as Json;
  } catch {
    /* reported by the parser */
  }
  if ('choices' in o && 'gold' in o) return 'mc';
  if ('endings' in o) return 'hellaswag';
  if ('answerKey' in o) return 'arc';
  if ('sol1' in o) return 'piqa';
  if ('option1' in o) return 'winogrande';
  if ('text' in o) return 'lambada';
  return 'mc';
}

/**
 * Reads a task file in any of `TASK_FORMATS` (detected from the name and first record unless given).
 *
 * @example
 * const items = parseTaskFile('packages/eval/data/sotu-hellaswag.jsonl');
 */
export function parseTaskFile(file: string, format?: TaskFormat): McItem[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new EvalError('BAD_TASK_FILE', `mc: cannot read ${file}`, { cause: e });
  }
  const f = format ?? detectFormat(file, text);
  switch (f) {
    case 'mc': return parseMcJsonl(text, file);
    case 'hellaswag': return parseHellaswag(text, file);
    case 'arc': return parseArc(text, file);
    case 'piqa': return parsePiqa(text, file);
    case 'winogrande': return parseWinogrande(text, file);
    case 'lambada': return parseLambada(text, file);
    case 'mmlu': return parseMmluCsv(text, file, basename(file).replace(/_(test|dev|val)\.csv$/, '').replace(/\.csv$/, ''));
  }
}
