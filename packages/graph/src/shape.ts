import type { Dim } from './onnx/model-spec';
import { GraphError } from './errors';

export function formatShape(s: readonly Dim[]): string {
  return `[${s.join(', ')}]`;
}

/** Numpy-style broadcasting of two shapes; symbolic dims are trusted to agree unless one side is the number 1. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[], where: string): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da === db) out.push(da);
    else if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else if (typeof da === 'number' && typeof db === 'number')
      throw new GraphError(
        'SHAPE_MISMATCH',
        `${where}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (axis ${i}: ${da} vs ${db})`,
      );
    else out.push(typeof da === 'number' ? da : db);
  }
  return out;
}

export function normAxis(axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new GraphError('BAD_OPTION', `${where}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Product of dims as a Dim: a number when all are numbers, else a symbolic product name like "batch*seq". */
export function dimProduct(dims: readonly Dim[]): Dim {
  let num = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') num *= d;
    else syms.push(d);
  }
  if (syms.length === 0) return num;
  if (num === 1 && syms.length === 1) return syms[0];
  return [...(num !== 1 ? [String(num)] : []), ...syms].join('*');
}

/** Splits a symbolic product name back into factors (numbers and symbols). */
export function dimFactors(d: Dim): { num: number; syms: string[] } {
  if (typeof d === 'number') return { num: d, syms: [] };
  let num = 1;
  const syms: string[] = [];
  for (const part of d.split('*')) {
    if (/^\d+$/.test(part)) num *= Number(part);
    else syms.push(part);
  }
  return { num, syms };
}

/** Divides dim products: total / known, for Reshape's -1. Returns undefined when not expressible. */
export function dimQuotient(total: readonly Dim[], known: readonly Dim[]): Dim | undefined {
  let num = 1;
  const syms: string[] = [];
  for (const d of total) {
    const f = dimFactors(d);
    num *= f.num;
    syms.push(...f.syms);
  }
  let den = 1;
  for (const d of known) {
    const f = dimFactors(d);
    den *= f.num;
    for (const s of f.syms) {
      const i = syms.indexOf(s);
      if (i < 0) return undefined;
      syms.splice(i, 1);
    }
  }
  if (num % den !== 0) return undefined;
  return dimProduct([num / den, ...syms]);
}

export function staticSize(shape: readonly Dim[]): number | undefined {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return undefined;
    n *= d;
  }
  return n;
}
