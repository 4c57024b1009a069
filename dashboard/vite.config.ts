import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// In development Vite serves the app and forwards every API path to the ledger (same origin as in production,
// where the ledger serves dashboard/dist itself). Client routes live under /app, so they never meet an API path.
const ledger = process.env.VEIL_LEDGER_URL ?? 'http://127.0.0.1:4100';
const API_PREFIXES = [
  '/auth', '/entities', '/accounts', '/entries', '/transfers', '/documents', '/guard', '/veil-health', '/consolidated',
  '/audit', '/bills', '/executions', '/imports', '/rules', '/bank-lines', '/plaid', '/healthz', '/readyz', '/openapi.json', '/docs',
];

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: Object.fromEntries(
      API_PREFIXES.map((prefix) => [
        prefix,
        { target: ledger },
      ]),
    ),
  },
  build: { outDir: 'dist', sourcemap: false },
});
