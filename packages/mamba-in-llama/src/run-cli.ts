// The `mil` command line (its entry is cli.ts): distill (the main job), generate, export, eval, teacher-signal /
// worker, install-provider. Every failure ends in one line,
// `mil: [CODE] message`, with exit code 2 for a usage error and 1 for anything else — never a stack trace
// (MIL_DEBUG=1 adds it).
import { generateCommand, generateHelp } from './commands/generate';
import { distillCommand, distillHelp } from './commands/distill';
import { exportCommand, exportHelp } from './commands/export';
import { evalCommand, evalHelp } from './commands/eval';
import { evalShardsCommand, teacherSignalCommand, teacherSignalHelp, workerCommand } from './commands/teacher-signal';
import { installProviderCommand, installProviderHelp } from './commands/install-provider';
import { CliError } from './errors';
import { errorLine, exitCodeOf } from './options';

const HELP = `mil — Mamba-in-Llama in Node.js

  mil distill [options]      distill the embedded teacher into a hybrid, evaluate, write a run folder (the main job)
  mil generate [options]     continue a prompt with a teacher or hybrid folder, plainly or speculatively (--draft)
  mil export [options]       write a model folder for onnxruntime, transformers.js or llama.cpp (GGUF)
  mil eval [options] [task…] evaluate model folders (ppl, long, mc, needle, speed); report.html
  mil teacher-signal [opts]  teacher top-k log-probs in shards, here or over Redis workers (mil worker)
  mil eval-shards [opts]     held-out perplexity in shards, here or over the same workers
  mil install-provider cuda  install the optional CUDA execution provider (from the npm registry)
  mil help                   this text

  Every model command takes --ep cpu|webgpu|cuda (execution provider, default cpu) and --threads N.

${distillHelp}

${generateHelp}

${exportHelp}

${evalHelp}

${teacherSignalHelp}

${installProviderHelp}

Errors print one line, mil: [CODE] message; exit code 2 for a bad command line, 1 for anything else.
`;

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'generate':
      return generateCommand(rest);
    case 'distill':
      return distillCommand(rest);
    case 'export':
      return exportCommand(rest);
    case 'eval':
      return evalCommand(rest);
    case 'teacher-signal':
      return teacherSignalCommand(rest);
    case 'worker':
      return workerCommand(rest);
    case 'eval-shards':
      return evalShardsCommand(rest);
    case 'install-provider':
      return installProviderCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return;
    default:
      throw new CliError('UNKNOWN_COMMAND', `unknown command "${cmd}"; expected distill, generate, export, eval, teacher-signal, eval-shards, worker, install-provider or help`);
  }
}

/**
 * Runs one `mil` command line and returns its exit code; an error becomes one `mil: [CODE] message` line on `stderr`.
 *
 * @example process.exitCode = await runCli(['distill', '--seq', '0']); // 2, after "mil: [BAD_FLAG] --seq must be …"
 */
export async function runCli(argv: string[], stderr: (line: string) => void = (l) => process.stderr.write(l)): Promise<number> {
  try {
    await main(argv);
    return 0;
  } catch (e) {
    stderr(`${errorLine(e)}\n`);
    if (process.env.MIL_DEBUG) stderr(`${(e as Error)?.stack}\n`);
    return exitCodeOf(e);
  }
}
