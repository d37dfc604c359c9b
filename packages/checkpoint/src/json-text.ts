// Small JSON helpers that JSON.parse / JSON.stringify cannot do: spot duplicate keys, and print keys in a
// fixed order (JS objects put integer-like keys first, whatever order they were inserted in).

/** Index of the quote that closes the JSON string opening at `open` (escapes skipped), or text.length. */
function closingQuote(text: string, open: number): number {
  let i = open + 1;
  for (; i < text.length; i++) {
    const d = text.charCodeAt(i);
    if (d === 0x5c /* \ */) i++;
    else if (d === 0x22) break;
  }
  return i;
}

/**
 * The first key that occurs twice in the top-level object of `text` (already known to be valid JSON), or
 * undefined. JSON.parse silently keeps the last one, which would hide a corrupt header.
 */
export function findDuplicateTopLevelKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      i = closingQuote(text, i);
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth === 1) expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    } else if (c === 0x2c /* , */ && depth === 1) {
      expectKey = true;
    }
  }
  return undefined;
}

/** Compares strings by Unicode code point (Python's str order; JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/**
 * JSON text with object keys in code-point order at every level, like Python's
 * `json.dumps(value, indent=indent, sort_keys=True)` (but without escaping non-ASCII).
 */
export function stringifySorted(value: unknown, indent = 2): string {
  const pad = (level: number): string => ' '.repeat(indent * level);
  const walk = (v: unknown, level: number): string => {
    if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[\n${v.map((x) => pad(level + 1) + walk(x, level + 1)).join(',\n')}\n${pad(level)}]`;
    }
    const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
    if (keys.length === 0) return '{}';
    keys.sort(compareCodePoints);
    const body = keys.map((k) => `${pad(level + 1)}${JSON.stringify(k)}: ${walk((v as Record<string, unknown>)[k], level + 1)}`);
    return `{\n${body.join(',\n')}\n${pad(level)}}`;
  };
  return walk(value, 0);
}

/**
 * The first key that occurs twice in any object below the top level of `text` (already known to be valid JSON),
 * with the top-level key it sits under — e.g. a safetensors tensor entry with two "dtype" fields, which JSON.parse
 * would silently resolve to the last one. Undefined when there is none.
 *
 * @example findDuplicateNestedKey('{"w": {"dtype": "F32", "dtype": "F16"}}'); // { parent: 'w', key: 'dtype' }
 */
export function findDuplicateNestedKey(text: string): { parent: string; key: string } | undefined {
  // one frame per open container: its keys (objects only) and whether the next string is a key
  const stack: { keys: Set<string> | null; expectKey: boolean }[] = [];
  let topKey = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      i = closingQuote(text, i);
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (stack.length === 1) topKey = key;
        else if (top.keys.has(key)) return { parent: topKey, key };
        top.keys.add(key);
        top.expectKey = false;
      }
    } else if (c === 0x7b /* { */) stack.push({ keys: new Set(), expectKey: true });
    else if (c === 0x5b /* [ */) stack.push({ keys: null, expectKey: false });
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    else if (c === 0x2c /* , */ && stack.length > 0 && stack[stack.length - 1].keys) stack[stack.length - 1].expectKey = true;
  }
  return undefined;
}
