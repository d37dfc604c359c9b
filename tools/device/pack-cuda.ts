// Builds .device-cuda/cuda.tar.xz (ignored by git): the pinned CUDA provider libraries for onnxruntime-node 1.29.0,
// verified against their checksums, with every kernel image for another GPU than the target zeroed
// (keepOnlyCudaArch), so that the provider (229 MB, 165 MB of xz) travels to the GPU machine as ~38 MB.
//
//   node --conditions=source --import tsx tools/device/pack-cuda.ts [--arch 90] [--tarball <pinned .tgz>]
//
// The device machine has no network, so the libraries cannot be installed there; setup-remote.sh unpacks this
// archive beside the carried libonnxruntime.so.1. sm_90 is the H100/H200.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CUDA_PROVIDER, installCudaProvider, keepOnlyCudaArch, listFatbinEntries } from '@mil/graph';

const { values: a } = parseArgs({ options: { arch: { type: 'string', default: '90' }, tarball: { type: 'string' } } });
const arch = Number(a.arch);
if (!Number.isInteger(arch) || arch < 50 || arch > 200) throw new Error(`--arch: expected an SM number such as 90, got ${a.arch}`);
const root = new URL('../..', import.meta.url).pathname;
const out = join(root, '.device-cuda');
const work = mkdtempSync(join(tmpdir(), 'mil-pack-cuda-'));
try {
  // the same verified download `mil install-provider cuda` does, into a scratch folder
  await installCudaProvider({ targetDir: work, tarball: a.tarball, onProgress: (l) => console.error(l) });
  const lib = join(work, 'libonnxruntime_providers_cuda.so');
  const bytes = readFileSync(lib);
  const archs = [...new Set(listFatbinEntries(bytes).map((e) => e.arch))].sort((x, y) => x - y);
  const r = keepOnlyCudaArch(bytes, arch);
  writeFileSync(lib, bytes);
  console.error(`kernel images: ${r.entries} for ${archs.map((x) => `sm_${x}`).join(', ')}; kept ${r.kept} for sm_${arch}, zeroed ${(r.zeroedBytes / 1e6).toFixed(1)} MB`);
  mkdirSync(out, { recursive: true });
  const tmp = join(out, `.cuda.tar.xz.${process.pid}.tmp`);
  execFileSync('bash', ['-c', `tar -C "${work}" -cf - ${Object.keys(CUDA_PROVIDER.files).join(' ')} | xz -9 -T2 > "${tmp}"`], { stdio: 'inherit' });
  renameSync(tmp, join(out, 'cuda.tar.xz'));
  writeFileSync(join(out, 'cuda.arch'), `sm_${arch} ${CUDA_PROVIDER.package}@${CUDA_PROVIDER.version}\n`);
  console.error(`.device-cuda/cuda.tar.xz: ${(statSync(join(out, 'cuda.tar.xz')).size / 2 ** 20).toFixed(1)} MiB`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
