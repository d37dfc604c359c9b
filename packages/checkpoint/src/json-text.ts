// Small JSON helpers that JSON.parse / JSON.stringify cannot do: spot duplicate keys, and print keys in a
// fixed order (JS objects put integer-like keys first, whatever order they were inserted in).

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
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
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
