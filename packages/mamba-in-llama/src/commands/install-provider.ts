// mil install-provider cuda: the opt-in install of onnxruntime-node's CUDA provider from the npm registry,
// and `mil install-provider --check cuda` to list what this machine still lacks.
import { parseArgs } from 'node:util';
import { GraphError, diagnoseCuda, installCudaProvider } from '@mil/graph';

export const installProviderHelp = `mil install-provider cuda [--tarball <pinned .tgz>] [--check]
    installs the CUDA execution provider for onnxruntime-node 1.29.0 (pinned npm package, checksummed, ~180 MB),
    then lists what else the machine needs (NVIDIA driver ≥ 580, CUDA 13 runtime); --check only lists`;

export async function installProviderCommand(argv: string[]): Promise<void> {
  const { values: a, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { tarball: { type: 'string' }, check: { type: 'boolean' } } });
  if (positionals.length !== 1 || positionals[0] !== 'cuda')
    throw new GraphError('PROVIDER_UNAVAILABLE', `mil install-provider: expected the provider name 'cuda' (webgpu ships with onnxruntime-node; cpu needs nothing), got ${positionals.join(' ') || 'nothing'}`);
  if (!a.check) await installCudaProvider({ tarball: a.tarball, onProgress: (l) => process.stderr.write(`${l}\n`) });
  const d = diagnoseCuda();
  if (d.missing.length === 0) {
    process.stdout.write(`cuda: ready (NVIDIA driver ${d.driverVersion}); use --ep cuda\n`);
    return;
  }
  process.stdout.write(`cuda: not usable yet on this machine; missing:\n${d.missing.map((m) => `  - ${m}\n`).join('')}`);
  process.exitCode = 1;
}
