#!/usr/bin/env node
// The `mil` command line: distill (the main job), generate, export, eval, teacher-signal / worker, install-provider.
import { generateCommand, generateHelp } from './commands/generate';
import { distillCommand, distillHelp } from './commands/distill';
import { exportCommand, exportHelp } from './commands/export';
import { teacherSignalCommand, teacherSignalHelp, workerCommand } from './commands/teacher-signal';
import { installProviderCommand, installProviderHelp } from './commands/install-provider';
import { evalCommand, evalHelp } from './commands/eval';

const HELP = `mil — Mamba-in-Llama in Node.js

  mil distill [options]      distill the embedded teacher into a hybrid, evaluate, write a run folder (the main job)
  mil generate [options]     sample text from a model folder (a teacher, or a run's hybrid student)
  mil export [options]       write a model folder for onnxruntime, transformers.js or llama.cpp (GGUF)
  mil install-provider cuda  install the optional CUDA execution provider (from the npm registry)
  mil teacher-signal [opts]  teacher top-k log-probs in shards, here or over Redis workers (mil worker)
  mil eval [options] [task…] evaluate model folders (ppl, long, mc, needle, speed); report.html
  mil help                   this text

  Every command takes --ep cpu|webgpu|cuda (execution provider, default cpu) and --threads N.

${distillHelp}

${generateHelp}

${exportHelp}

${evalHelp}

${teacherSignalHelp}

${installProviderHelp}
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
    case 'teacher-signal':
      return teacherSignalCommand(rest);
    case 'worker':
      return workerCommand(rest);
    case 'install-provider':
      return installProviderCommand(rest);
    case 'eval':
      return evalCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return;
    default:
      process.stderr.write(`mil: unknown command "${cmd}"\n\n${HELP}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  const err = e as Error & { code?: string; hint?: string };
  // parseArgs' own errors (unknown flag, missing value) are usage errors too.
  const usage = err.code === 'BAD_OPTION' || (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS'));
  const code = typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS') ? 'BAD_OPTION' : err.code;
  process.stderr.write(`mil: ${code ? `[${code}] ` : ''}${err.message}\n`);
  if (err.hint) process.stderr.write(`mil: hint: ${err.hint}\n`);
  if (process.env.MIL_DEBUG) process.stderr.write(`${err.stack}\n`);
  process.exitCode = usage ? 2 : 1;
});
