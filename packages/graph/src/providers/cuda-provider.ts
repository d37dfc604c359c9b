// The CUDA execution provider for onnxruntime-node 1.29.0: where its libraries come from (one pinned npm package),
// how to install them beside libonnxruntime.so.1, and what is missing when they cannot load.
// onnxruntime-node's own installer downloads CUDA binaries from outside the npm registry, which this project never
// relies on; the npm package below is an ORT 1.29.0 build for CUDA 13 (MIT, like ORT).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, readdirSync } from 'node:fs';
import { copyFile, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { GraphError } from '../errors';
import { ortLibraryDir } from '../runner';


/** The pinned source of the CUDA provider: npm package, version, tarball integrity and the sha256 of each library. */
export const CUDA_PROVIDER = {
  onnxruntimeVersion: '1.29.0',
  cudaMajor: 13,
  package: 'com.github.asus4.onnxruntime.linux-x64-gpu',
  version: '0.4.9',
  integrity: 'sha512-FopIhNE/Ng+v2X65wVc9clPCBCvhvA53Hxo2U0Kf5fGdVsC7iCA+mZ0KLWggcQAj7TIZ6pNidR4AC10g74Xo6w==',
  /** Path inside the tarball → sha256 of the file. */
  files: {
    'libonnxruntime_providers_cuda.so': '56cf3254b118ad837ccc4ed8f6d1b23504bbf7ef91b34cbc0b289cb7f10b3037',
    'libonnxruntime_providers_shared.so': 'c6a12593396095f5670160e284c35d1700b7708cf3037b7042e2a5200ccae772',
  } as Record<string, string>,
  tarballDir: 'package/Plugins/Linux/x64',
  /** Libraries the provider links against that come with the NVIDIA driver / CUDA runtime, not with the package. */
  systemLibraries: ['libcuda.so.1', 'libcudart.so.13', 'libcublas.so.13', 'libcublasLt.so.13', 'libcurand.so.10'],
  /** The oldest Linux driver branch that runs CUDA 13 builds. */
  minDriverMajor: 580,
} as const;

function ortVersion(): string {
  const req = createRequire(import.meta.url);
  return (JSON.parse(readFileSync(req.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }).version;
}

/** What stands between this machine and the CUDA provider; empty when nothing is known to be missing. */
export interface CudaDiagnosis {
  missing: string[];
  /** The NVIDIA kernel driver version, when one is loaded. */
  driverVersion?: string;
}

/** Directories the dynamic loader searches, as far as can be seen from here (LD_LIBRARY_PATH, ldconfig's cache dirs). */
function libraryDirs(): string[] {
  const dirs = new Set<string>((process.env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean));
  for (const d of ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/local/cuda/lib64', '/usr/local/nvidia/lib64', '/usr/lib/wsl/lib']) dirs.add(d);
  try {
    for (const f of readdirSync('/etc/ld.so.conf.d')) {
      for (const line of readFileSync(join('/etc/ld.so.conf.d', f), 'utf8').split('\n')) if (line.startsWith('/')) dirs.add(line.trim());
    }
  } catch {
    // no ld.so.conf.d: the defaults above
  }
  return [...dirs];
}

/**
 * Lists what the CUDA provider needs and this machine lacks: the provider libraries beside onnxruntime-node, the
 * NVIDIA driver (and its version), the CUDA 13 runtime libraries. Cheap: file checks only, no hashing.
 *
 * @example
 * const { missing } = diagnoseCuda();
 * if (missing.length) console.error(missing.join('\n'));
 */
export function diagnoseCuda(): CudaDiagnosis {
  const missing: string[] = [];
  if (process.platform !== 'linux' || process.arch !== 'x64') missing.push(`a linux-x64 machine (this is ${process.platform}-${process.arch})`);
  const ver = ortVersion();
  if (ver !== CUDA_PROVIDER.onnxruntimeVersion) missing.push(`onnxruntime-node ${CUDA_PROVIDER.onnxruntimeVersion} (found ${ver})`);
  const dir = ortLibraryDir();
  for (const f of Object.keys(CUDA_PROVIDER.files)) if (!existsSync(join(dir, f))) missing.push(`${f} in ${dir} (run: mil install-provider cuda)`);
  let driverVersion: string | undefined;
  try {
    driverVersion = /Kernel Module\s+(?:for \S+\s+)?([\d.]+)/.exec(readFileSync('/proc/driver/nvidia/version', 'utf8'))?.[1];
  } catch {
    missing.push('the NVIDIA kernel driver (/proc/driver/nvidia/version is absent: no NVIDIA GPU or driver on this machine)');
  }
  if (driverVersion && Number(driverVersion.split('.')[0]) < CUDA_PROVIDER.minDriverMajor)
    missing.push(`an NVIDIA driver ≥ ${CUDA_PROVIDER.minDriverMajor} for CUDA ${CUDA_PROVIDER.cudaMajor} (found ${driverVersion})`);
  const dirs = libraryDirs();
  for (const lib of CUDA_PROVIDER.systemLibraries) {
    if (!dirs.some((d) => existsSync(join(d, lib))))
      missing.push(`${lib} (${lib.startsWith('libcuda.') ? 'the NVIDIA driver' : `the CUDA ${CUDA_PROVIDER.cudaMajor} runtime`}; not found in ${dirs.length} library directories incl. LD_LIBRARY_PATH)`);
  }
  return { missing, ...(driverVersion ? { driverVersion } : {}) };
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function sha512Integrity(path: string): Promise<string> {
  const h = createHash('sha512');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return `sha512-${h.digest('base64')}`;
}

/** Options of `installCudaProvider`. */
export interface InstallCudaOptions {
  /** Progress lines for a person (the library never prints). */
  onProgress?: (line: string) => void;
  /** Where the libraries go (default: beside onnxruntime-node's libonnxruntime.so.1). */
  targetDir?: string;
  /** A tarball of the pinned package already on disk (skips `npm pack`; still verified). */
  tarball?: string;
}

/**
 * Installs the CUDA provider libraries for onnxruntime-node 1.29.0 from the npm registry only: `npm pack` of the
 * pinned package (through the user's npm configuration), checks the tarball's sha512 and each library's sha256,
 * and moves them beside libonnxruntime.so.1 atomically. Idempotent: verified files already in place are kept.
 *
 * @example
 * await installCudaProvider({ onProgress: (l) => console.error(l) });
 * diagnoseCuda().missing; // [] on a machine with an NVIDIA driver ≥ 580 and the CUDA 13 runtime
 */
export async function installCudaProvider(opts: InstallCudaOptions = {}): Promise<{ targetDir: string; installed: string[] }> {
  const log = opts.onProgress ?? (() => {});
  const ver = ortVersion();
  if (ver !== CUDA_PROVIDER.onnxruntimeVersion)
    throw new GraphError('PROVIDER_MISMATCH', `the pinned CUDA provider is built for onnxruntime-node ${CUDA_PROVIDER.onnxruntimeVersion}; this install has ${ver}`);
  const targetDir = opts.targetDir ?? ortLibraryDir();
  const names = Object.keys(CUDA_PROVIDER.files);
  const present = await Promise.all(names.map(async (f) => existsSync(join(targetDir, f)) && (await sha256(join(targetDir, f))) === CUDA_PROVIDER.files[f]));
  if (present.every(Boolean)) {
    log(`CUDA provider already installed in ${targetDir}`);
    return { targetDir, installed: [] };
  }
  const work = await mkdtemp(join(tmpdir(), 'mil-cuda-'));
  try {
    let tgz = opts.tarball;
    if (!tgz) {
      log(`downloading ${CUDA_PROVIDER.package}@${CUDA_PROVIDER.version} from the npm registry (~180 MB)…`);
      try {
        const { stdout } = await promisify(execFile)('npm', ['pack', `${CUDA_PROVIDER.package}@${CUDA_PROVIDER.version}`, '--pack-destination', work, '--json', '--silent'], { maxBuffer: 1 << 24 });
        tgz = join(work, (JSON.parse(stdout) as { filename: string }[])[0].filename);
      } catch (e) {
        throw new GraphError('PROVIDER_INSTALL_FAILED', `npm pack ${CUDA_PROVIDER.package}@${CUDA_PROVIDER.version} failed: ${(e as Error).message.split('\n')[0]}`, { cause: e, hint: 'check that npm can reach its registry (npm ping)' });
      }
    }
    const integrity = await sha512Integrity(tgz);
    if (integrity !== CUDA_PROVIDER.integrity)
      throw new GraphError('PROVIDER_INSTALL_FAILED', `${tgz}: integrity ${integrity} does not match the pinned ${CUDA_PROVIDER.integrity}`);
    log('verified the tarball; extracting the provider libraries…');
    const inTar = names.map((f) => `${CUDA_PROVIDER.tarballDir}/${f}`);
    try {
      await promisify(execFile)('tar', ['-xzf', tgz, '-C', work, ...inTar]);
    } catch (e) {
      throw new GraphError('PROVIDER_INSTALL_FAILED', `${tgz}: could not extract ${inTar.join(', ')}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
    }
    const installed: string[] = [];
    for (const f of names) {
      const src = join(work, CUDA_PROVIDER.tarballDir, f);
      const got = await sha256(src);
      if (got !== CUDA_PROVIDER.files[f]) throw new GraphError('PROVIDER_INSTALL_FAILED', `${f}: sha256 ${got} does not match the pinned ${CUDA_PROVIDER.files[f]}`);
      // Copy next to the target first, then rename: a reader never sees half a library.
      const tmp = join(targetDir, `.${f}.${process.pid}.tmp`);
      await copyFile(src, tmp);
      await rename(tmp, join(targetDir, f));
      installed.push(join(targetDir, f));
      log(`installed ${join(targetDir, f)} (${((await stat(join(targetDir, f))).size / 1e6).toFixed(1)} MB)`);
    }
    return { targetDir, installed };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
