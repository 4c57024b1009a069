import { createPlaidEmulator } from './emulator';

// The emulator on its own: `tsx src/plaid-emulator/main.ts` (PLAID_EMULATOR_PORT, PLAID_CLIENT_ID, PLAID_SECRET,
// PLAID_EMULATOR_SEED). Point the ledger's PLAID_BASE_URL at it.

async function main(): Promise<void> {
  const port = Number(process.env.PLAID_EMULATOR_PORT ?? 4200);
  const host = process.env.PLAID_EMULATOR_HOST ?? '127.0.0.1';
  const clientId = process.env.PLAID_CLIENT_ID ?? 'veil-emulator-client';
  const secret = process.env.PLAID_SECRET ?? 'veil-emulator-secret';
  const seed = Number(process.env.PLAID_EMULATOR_SEED ?? 42);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error('PLAID_EMULATOR_PORT must be a port number');
  const emulator = await createPlaidEmulator({ clientId, secret, seed });
  const server = emulator.app.listen(port, host, () => {
    console.log(JSON.stringify({ msg: 'Plaid sandbox emulator listening', url: `http://${host}:${port}`, clientId }));
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
