// An independent, deliberately plain reading of the safetensors rules, used as the fuzz test's oracle.
// It shares no code with the library: its own JSON parser (which keeps duplicate keys visible), BigInt
// size arithmetic, and whole-buffer slicing.
const SIZES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface OracleTensor {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}
export type OracleResult = { ok: true; tensors: Map<string, OracleTensor>; metadata: Record<string, string> } | { ok: false; why: string };

type J = null | boolean | number | string | J[] | { pairs: [string, J][] };

function parseJson(text: string): J {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const fail = (): never => {
    throw new Error(`json error at ${i}`);
  };
  const value = (): J => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const pairs: [string, J][] = [];
      ws();
      if (text[i] === '}') return i++, { pairs };
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        const k = str();
        ws();
        if (text[i++] !== ':') fail();
        pairs.push([k, value()]);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return i++, { pairs };
        else fail();
      }
    }
    if (c === '[') {
      i++;
      const xs: J[] = [];
      ws();
      if (text[i] === ']') return i++, xs;
      for (;;) {
        xs.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return i++, xs;
        else fail();
      }
    }
    if (c === '"') return str();
    for (const [lit, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(lit, i)) return (i += lit.length), v;
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += m![0].length;
    return Number(m![0]);
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i])) fail();
      }
      i++;
    }
    if (i >= text.length) fail();
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const v = value();
  ws();
  if (i !== text.length) fail();
  return v;
}

const isObj = (v: J): v is { pairs: [string, J][] } => typeof v === 'object' && v !== null && !Array.isArray(v);
const get = (o: { pairs: [string, J][] }, k: string): J | undefined => {
  const hits = o.pairs.filter(([key]) => key === k);
  return hits.length ? hits[hits.length - 1][1] : undefined;
};
const isCount = (v: J | undefined): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function oracleParse(buf: Uint8Array): OracleResult {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8) return { ok: false, why: 'short' };
  const n = b.readBigUInt64LE(0);
  if (n > 100_000_000n) return { ok: false, why: 'header too large' };
  if (8n + n > BigInt(b.length)) return { ok: false, why: 'header past end' };
  const hb = b.subarray(8, 8 + Number(n));
  const text = hb.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(hb)) return { ok: false, why: 'utf8' };
  if (!text.startsWith('{')) return { ok: false, why: 'start' };
  let root: J;
  try {
    root = parseJson(text);
  } catch {
    return { ok: false, why: 'json' };
  }
  if (!isObj(root)) return { ok: false, why: 'not object' };
  const keys = root.pairs.map(([k]) => k);
  if (new Set(keys).size !== keys.length) return { ok: false, why: 'duplicate' };
  const data = b.subarray(8 + Number(n));
  const metadata: Record<string, string> = {};
  const ranges: { name: string; begin: bigint; end: bigint; t: OracleTensor }[] = [];
  for (const [name, v] of root.pairs) {
    if (name === '__metadata__') {
      if (v === null) continue;
      if (!isObj(v)) return { ok: false, why: 'metadata' };
      for (const [k, s] of v.pairs) {
        if (typeof s !== 'string') return { ok: false, why: 'metadata value' };
        metadata[k] = s;
      }
      continue;
    }
    if (!isObj(v)) return { ok: false, why: 'info' };
    const dtype = get(v, 'dtype');
    const shape = get(v, 'shape');
    const offs = get(v, 'data_offsets');
    if (typeof dtype !== 'string' || !(dtype in SIZES) || !Object.prototype.hasOwnProperty.call(SIZES, dtype)) return { ok: false, why: 'dtype' };
    if (!Array.isArray(shape) || !shape.every(isCount)) return { ok: false, why: 'shape' };
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isCount)) return { ok: false, why: 'offsets' };
    const [s, e] = (offs as number[]).map(BigInt);
    if (e < s) return { ok: false, why: 'reversed' };
    const want = (shape as number[]).reduce((p, d) => p * BigInt(d), 1n) * BigInt(SIZES[dtype]);
    if (e - s !== want) return { ok: false, why: 'size' };
    if (e > BigInt(data.length)) return { ok: false, why: 'bounds' };
    ranges.push({ name, begin: s, end: e, t: { dtype, shape: shape as number[], bytes: new Uint8Array(data.subarray(Number(s), Number(e))) } });
  }
  ranges.sort((x, y) => (x.begin < y.begin ? -1 : x.begin > y.begin ? 1 : x.end < y.end ? -1 : x.end > y.end ? 1 : 0));
  let at = 0n;
  for (const r of ranges) {
    if (r.begin !== at) return { ok: false, why: 'overlap or gap' };
    at = r.end;
  }
  if (at !== BigInt(data.length)) return { ok: false, why: 'trailing' };
  return { ok: true, tensors: new Map(ranges.map((r) => [r.name, r.t])), metadata };
}
