#!/usr/bin/env node
// The `mil` executable: runs the command line (run-cli.ts) and sets the exit code.
import { errorLine, exitCodeOf } from './options';
import { runCli } from './run-cli';

// A crash outside the awaited chain (a callback, a stream) still ends in one coded line.
process.on('uncaughtException', (e) => {
  process.stderr.write(`${errorLine(e)}\n`);
  process.exit(exitCodeOf(e));
});
runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
