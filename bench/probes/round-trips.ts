/**
 * Round trips to PostgreSQL per registry request: an in-process Wharf on a throwaway cluster, every
 * statement its pool sends counted (pg's Client.query) while one request of each kind runs alone.
 * The figures say where a request's time on PostgreSQL goes before any timing does: each statement
 * is a network round trip there, and a few microseconds of a function call on SQLite.
 *
 *   node --import tsx bench/probes/round-trips.ts [--statements]
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { imageManifest, OCI_CONFIG, OCI_MANIFEST, RegistryClient } from '../client.js';
import { startPostgresCluster } from '../servers.js';
import { startTestServer } from '../../test/support/server.js';

const showStatements = process.argv.includes('--statements');
const statements: string[] = [];
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function counted(this: pg.Client, ...args: unknown[]) {
  const first = args[0] as string | { text?: string };
  statements.push(typeof first === 'string' ? first : first?.text ?? '?');
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

function blob(size: number): { bytes: Buffer; digest: string } {
  const bytes = randomBytes(size);
  return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

const postgres = await startPostgresCluster();
process.env.WHARF_TEST_DATABASE_URL = postgres.url;
const server = await startTestServer('postgres');
const client = new RegistryClient(server.url, 4);
const rows: Array<{ request: string; statements: number }> = [];
async function measure(request: string, run: () => Promise<unknown>): Promise<void> {
  await run(); // once to warm caches and create what the request needs
  statements.length = 0;
  await run();
  rows.push({ request, statements: statements.length });
  if (showStatements) for (const s of statements) console.log(`  ${request}: ${s.replace(/\s+/g, ' ').slice(0, 160)}`);
}
try {
  const repo = 'probe/app';
  const config = blob(200);
  const layer = blob(4096);
  await client.pushSmall(repo, config);
  await client.pushSmall(repo, layer);
  const manifest = imageManifest({ digest: config.digest, size: 200 }, [{ digest: layer.digest, size: 4096 }]);
  const manifestDigest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  await client.putManifest(repo, 'v1', manifest);
  for (let i = 0; i < 20; i++) await client.putManifest(repo, `t${i}`, manifest);
  const accept = { accept: OCI_MANIFEST };
  await measure('GET /v2/', () => client.call('GET', '/v2/', [200]));
  await measure('manifest GET by tag', () => client.call('GET', `/v2/${repo}/manifests/v1`, [200], accept));
  await measure('manifest GET by digest', () => client.call('GET', `/v2/${repo}/manifests/${manifestDigest}`, [200], accept));
  await measure('manifest HEAD by tag', () => client.call('HEAD', `/v2/${repo}/manifests/v1`, [200], accept));
  await measure('blob HEAD', () => client.call('HEAD', `/v2/${repo}/blobs/${layer.digest}`, [200]));
  await measure('blob GET', () => client.pullBlob(repo, layer.digest));
  await measure('tags list (21 tags)', () => client.text(`/v2/${repo}/tags/list`));
  await measure('catalog', () => client.text('/v2/_catalog'));
  await measure('small blob push, POST + PUT (both requests)', async () => client.pushSmall(repo, blob(4096)));
  await measure('small blob push, POST ?digest=', async () => { const b = blob(4096); await client.pushSinglePost(repo, { size: b.bytes.length, digest: b.digest, chunks: () => [b.bytes] } as never); });
  await measure('manifest PUT by tag', async () => client.putManifest(repo, `n${randomBytes(4).toString('hex')}`, imageManifest({ digest: config.digest, size: 200 }, [{ digest: layer.digest, size: 4096 }], randomBytes(4).toString('hex'))));
  console.log('| request | statements sent to PostgreSQL |\n|---|---:|');
  for (const row of rows) console.log(`| ${row.request} | ${row.statements} |`);
  void OCI_CONFIG;
} finally {
  await client.close();
  await server.stop();
  postgres.stop();
}
