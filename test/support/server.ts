import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import type { WharfConfig } from '../../src/config/schema.js';
import { startServer, type WharfServer } from '../../src/server.js';

/** Password of the bootstrap administrator (`admin`) of every test server. */
export const TEST_ADMIN_PASSWORD = 'test-admin-password-0123';

export type EngineName = 'sqlite' | 'postgres';

/** Both metadata engines; PostgreSQL comes from test/run.mjs (WHARF_TEST_DATABASE_URL). */
export function engines(): EngineName[] {
  if (!process.env.WHARF_TEST_DATABASE_URL) {
    throw new Error('WHARF_TEST_DATABASE_URL is not set: run the tests with `npm test`, which starts PostgreSQL');
  }
  return ['sqlite', 'postgres'];
}

export interface TestServer extends WharfServer {
  dataDir: string;
  config: WharfConfig;
  /** Stops the server and removes its data and database. */
  stop(): Promise<void>;
}

/** A fresh database on the test cluster, dropped by the returned function. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.WHARF_TEST_DATABASE_URL!;
  const name = `wharf_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * Starts Wharf in-process on a free loopback port with a fresh data directory (and database).
 * Authentication is off unless `overrides.auth` says otherwise: the registry-core suites test the
 * protocol; the IAM suites turn it on and log in like real clients. A suite that checks what the
 * server logs passes its own `logger`.
 */
export async function startTestServer(engine: EngineName = 'sqlite', overrides: Record<string, Record<string, unknown>> = {}, logger?: Logger): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wharf-test-'));
  const database = engine === 'postgres' ? await createTestDatabase() : undefined;
  const config = loadConfig({
    env: {},
    overrides: {
      ...overrides,
      http: { host: '127.0.0.1', port: 0, ...overrides.http },
      storage: { dataDir, ...overrides.storage },
      database: { engine, url: database?.url ?? '', ...overrides.database },
      log: { level: process.env.WHARF_TEST_LOG_LEVEL ?? 'silent', ...overrides.log },
      auth: { enabled: false, adminPassword: TEST_ADMIN_PASSWORD, ...overrides.auth },
      // No test server reaches OSV's public bucket; the feed's suites point it at their own server.
      scanner: { syncInterval: 0, ...overrides.scanner },
    },
  });
  const server = await startServer(config, logger ?? pino({ level: config.log.level }));
  return {
    ...server,
    dataDir,
    config,
    async stop() {
      // A test server needs no graceful drain: a keep-alive connection left behind by a test that
      // reset a socket must not hold the close for the 72 s keep-alive timeout.
      const closing = server.close();
      server.app.server.closeAllConnections();
      await closing;
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
