// Measures how many audit rows 1000 manifest pulls by one principal write (batched), and the pull rate.
// Run: WHARF_TEST_DATABASE_URL=unused node --import tsx bench/measure-audit-pulls.mts
import { startTestServer } from '../test/support/server.js';
import { setUpTenants, basic, pushImage, send, OCI_MANIFEST } from '../test/support/iam.js';

const server = await startTestServer('sqlite', { auth: { enabled: true }, audit: { flushInterval: '1h' } });
try {
  const fx = await setUpTenants(server);
  const writer = basic(fx.writer);
  const image = await pushImage(server.url, 'teama/bench', 'v1', writer);
  const count = async () => Number((await server.metadata.db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const before = await count();
  const N = 1000;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const res = await send(server.url, { method: 'GET', path: `/v2/teama/bench/manifests/${image.digest}`, headers: { Accept: OCI_MANIFEST } }, writer);
    await res.arrayBuffer();
  }
  const t1 = performance.now();
  await server.iam.audit.flush();
  const after = await count();
  const row = await server.metadata.db.selectFrom('audit_events').selectAll().where('action', '=', 'registry.pull').executeTakeFirst();
  console.log(JSON.stringify({ pulls: N, seconds: ((t1 - t0) / 1000).toFixed(2), pullsPerSecond: Math.round(N / ((t1 - t0) / 1000)), auditRowsWritten: after - before, pullRowCount: row?.count, loginRowCount: (await server.metadata.db.selectFrom('audit_events').selectAll().where('action', '=', 'login').where('actor', '=', 'user writer').executeTakeFirst())?.count }));
} finally {
  await server.stop();
}
