import { runReport } from './report';

// `veil <command> …`: the command-line client. Each command is a module of its own; this only dispatches.

const COMMANDS: Record<string, (argv: readonly string[]) => Promise<number>> = {
  report: (argv) =>
    runReport(argv, {
      env: process.env,
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    }),
};

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const run = command === undefined ? undefined : COMMANDS[command];
  if (run === undefined) {
    process.stderr.write(`usage: veil <${Object.keys(COMMANDS).join('|')}> …\n`);
    return 2;
  }
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`veil: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
