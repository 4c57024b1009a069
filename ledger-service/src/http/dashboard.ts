import fs from 'node:fs';
import path from 'node:path';
import express, { type Express } from 'express';

/**
 * Serves the built dashboard from the same origin as the API, when it has been built. The hashed assets are
 * cached for a year; index.html is answered for `/` and every client route under `/app` only, so an unknown API
 * path still gets the JSON 404 and never the app.
 */
export function mountDashboard(app: Express, directory: string): boolean {
  const index = path.join(directory, 'index.html');
  if (!fs.existsSync(index)) return false;
  app.use('/assets', express.static(path.join(directory, 'assets'), { index: false, immutable: true, maxAge: '365d' }));
  app.get(['/', '/app', '/app/{*rest}'], (req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return true;
}
