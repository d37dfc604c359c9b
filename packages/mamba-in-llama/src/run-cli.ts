// The `mil` command line (its entry is cli.ts): distill (the main job), generate, export. Every failure ends in one line,
// `mil: [CODE] message`, with exit code 2 for a usage error and 1 for anything else — never a stack trace
// (MIL_DEBUG=1 adds it).
import { generateCommand, generateHelp } from './commands/generate';
import { distillCommand, distillHelp } from './commands/distill';
import { exportCommand, exportHelp } from './commands/export';
import { CliError, errorLine, exitCodeOf } from './options';

const HELP = `mil — Mamba-in-Llama in Node.js

  mil distill [options]      distill the embedded teacher into a hybrid, evaluate, write a run folder (the main job)
  mil generate [options]     sample text from a model folder
  mil export [options]       write a model folder as standalone ONNX
  mil help                   this text

${distillHelp}

${generateHelp}

${exportHelp}

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
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return;
    default:
      throw new CliError('UNKNOWN_COMMAND', `unknown command "${cmd}"; expected distill, generate, export or help`);
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
