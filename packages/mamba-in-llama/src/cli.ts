#!/usr/bin/env node
// The `mil` command line: distill (the main job), generate, eval.
import { generateCommand, generateHelp } from './commands/generate';
import { distillCommand, distillHelp } from './commands/distill';
import { exportCommand, exportHelp } from './commands/export';
import { evalCommand, evalHelp } from './commands/eval';

const HELP = `mil — Mamba-in-Llama in Node.js

  mil distill [options]      distill the embedded teacher into a hybrid, evaluate, write a run folder (the main job)
  mil generate [options]     sample text from a model folder
  mil export [options]       write a model folder as standalone ONNX
  mil eval [options] [task…] evaluate model folders (ppl, long, mc, needle, speed); report.html
  mil help                   this text

${distillHelp}

${generateHelp}

${exportHelp}

${evalHelp}
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
  const err = e as Error & { code?: string };
  process.stderr.write(`mil: ${err.code ? `[${err.code}] ` : ''}${err.message}\n`);
  if (process.env.MIL_DEBUG) process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
});
