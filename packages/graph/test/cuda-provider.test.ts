import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CUDA_PROVIDER, GraphError, diagnoseCuda, installCudaProvider } from '../src/index';

describe('CUDA provider', () => {
  it('diagnosis names what this machine lacks (CI has no NVIDIA driver and no provider libraries)', () => {
    const d = diagnoseCuda();
    const hasDriver = d.driverVersion !== undefined;
    if (!hasDriver) expect(d.missing.some((m) => m.includes('NVIDIA kernel driver'))).toBe(true);
    for (const m of d.missing) expect(m.length).toBeGreaterThan(10);
    // The provider libraries are opt-in: without them the diagnosis says how to get them.
    const libsMissing = d.missing.filter((m) => m.includes('mil install-provider cuda'));
    expect(libsMissing.length === 0 || libsMissing.length === 2).toBe(true);
  });

  it('refuses a tarball whose integrity is not the pinned one, writing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cuda-prov-'));
    const target = mkdtempSync(join(tmpdir(), 'cuda-target-'));
    const fake = join(dir, 'fake.tgz');
    writeFileSync(fake, Buffer.from('not the provider package'));
    const err = await installCudaProvider({ tarball: fake, targetDir: target }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect((err as GraphError).code).toBe('PROVIDER_INSTALL_FAILED');
    expect((err as Error).message).toContain(fake);
    expect((err as Error).message).toContain(CUDA_PROVIDER.integrity);
    expect(readdirSync(target)).toEqual([]);
  });

  // The real download is ~180 MB: opt in with MIL_TEST_CUDA_TARBALL=<path of the pinned .tgz> (npm pack output).
  it.skipIf(!process.env.MIL_TEST_CUDA_TARBALL)('installs the pinned libraries from the real tarball, verified, idempotently', async () => {
    const target = mkdtempSync(join(tmpdir(), 'cuda-target-'));
    const r = await installCudaProvider({ tarball: process.env.MIL_TEST_CUDA_TARBALL, targetDir: target });
    expect(r.installed.map((p) => p.slice(target.length + 1)).sort()).toEqual(Object.keys(CUDA_PROVIDER.files).sort());
    const again = await installCudaProvider({ tarball: process.env.MIL_TEST_CUDA_TARBALL, targetDir: target });
    expect(again.installed).toEqual([]);
  });
});
