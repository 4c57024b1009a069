import type { AddressInfo } from 'node:net';
import { createPlaidEmulator } from '../src/plaid-emulator/emulator';

// The Plaid sandbox emulator in a process of its own for the Plaid sync benchmark (forked by plaid-sync.bench.ts),
// as Plaid's servers are: its work (generating, validating and serializing each page) no longer runs on the
// service's event loop, where it delayed the service's own database replies. It answers the parent with the port it
// listens on, and ends when the parent disconnects.

interface EmulatorProcessOptions {
  clientId: string;
  secret: string;
  seed: number;
  historyDays: number;
  bulkCount: number;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.env.BENCH_PLAID_EMULATOR_OPTIONS ?? '') as EmulatorProcessOptions;
  const emulator = await createPlaidEmulator(options);
  const server = emulator.app.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  });
  process.on('disconnect', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
