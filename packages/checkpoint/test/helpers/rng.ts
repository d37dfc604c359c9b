// Seeded PRNG (mulberry32) so every random test input is reproducible.
export function makeRng(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T; u32(): number } {
  let a = seed >>> 0;
  const u32 = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    u32,
    next: () => u32() / 2 ** 32,
    int: (n: number) => Math.floor((u32() / 2 ** 32) * n),
    pick: <T>(xs: readonly T[]) => xs[Math.floor((u32() / 2 ** 32) * xs.length)],
  };
}
