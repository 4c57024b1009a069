#!/usr/bin/env node
import { backupCommand } from './backup';
import { runImport, type CliIo } from './import';
import { runReport } from './report';

// `veil <command> …`: the command-line client. Each command is a module of its own; this only dispatches.

const io: CliIo = { stdout: (text) => process.stdout.write(text), stderr: process.stderr, env: process.env };

const COMMANDS: Record<string, (argv: readonly string[]) => Promise<number>> = {
  import: (argv) => runImport(['import', ...argv], io),
  report: (argv) =>
    runReport(argv, {
      env: process.env,
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    }),
  backup: (argv) => backupCommand('backup', [...argv]),
  restore: (argv) => backupCommand('restore', [...argv]),
};

/** The import command as the tests drive it: the whole argv, `import` first. */
export function runCli(argv: readonly string[], cliIo: CliIo): Promise<number> {
  return runImport(argv, cliIo);
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const run = command === undefined ? undefined : COMMANDS[command];
  if (run === undefined) {
    process.stderr.write(`usage: veil <${Object.keys(COMMANDS).join('|')}> …\n`);
    return 2;
  }
  return run(rest);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`veil: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
