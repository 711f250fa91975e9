// Manifest PUT latency with and without webhook subscribers (one whose receiver never answers),
// on SQLite in-process: the outbox write is the only cost a push pays for webhooks.
// Run: npm run build && node bench/webhook-push-latency.mjs [pushes]
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../dist/config/load.js';
import { startServer } from '../dist/server.js';

const PUSHES = Number(process.argv[2] ?? 300);
const PASSWORD = 'bench-admin-password-0123';
const auth = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function run(subscribers) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wharf-bench-'));
  const held = [];
  const receiver = createServer((req, res) => { req.resume(); held.push(res); });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const config = loadConfig({ env: {}, overrides: {
    http: { host: '127.0.0.1', port: 0 }, storage: { dataDir }, database: { engine: 'sqlite' }, log: { level: 'silent' },
    auth: { enabled: true, adminPassword: PASSWORD }, scanner: { enabled: false }, webhooks: { allowPrivateNetworks: true, timeout: '60s' },
  } });
  const server = await startServer(config, pino({ level: 'silent' }), () => {});
  try {
    const send = (method, p, body, type) => fetch(`${server.url}${p}`, { method, headers: { Authorization: auth, ...(type ? { 'Content-Type': type } : {}) }, body });
    const config_ = Buffer.from('{}');
    const layer = randomBytes(100);
    for (const blob of [config_, layer]) {
      const res = await send('POST', `/v2/bench/app/blobs/uploads/?digest=${sha(blob)}`, blob, 'application/octet-stream');
      if (res.status !== 201) throw new Error(`blob: ${res.status} ${await res.text()}`);
    }
    for (let i = 0; i < subscribers; i++) {
      const res = await send('POST', '/api/v1/webhooks', JSON.stringify({ url: `http://127.0.0.1:${receiver.address().port}/`, events: ['push', 'tag.moved'] }), 'application/json');
      if (res.status !== 201) throw new Error(`webhook: ${res.status} ${await res.text()}`);
    }
    const times = [];
    for (let i = 0; i < PUSHES; i++) {
      const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config_), size: config_.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(layer), size: layer.length }], annotations: { n: String(i) } }));
      const started = performance.now();
      const res = await send('PUT', `/v2/bench/app/manifests/t${i % 10}`, manifest, 'application/vnd.oci.image.manifest.v1+json');
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`manifest: ${res.status}`);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const pending = await server.metadata.db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll().as('n')).where('state', '=', 'pending').executeTakeFirst();
    return { subscribers, pushes: PUSHES, medianMs: +times[Math.floor(times.length / 2)].toFixed(2), p95Ms: +times[Math.floor(times.length * 0.95)].toFixed(2), pendingDeliveries: Number(pending.n), receiverHeld: held.length };
  } finally {
    for (const res of held) res.destroy();
    receiver.closeAllConnections();
    receiver.close();
    const closing = server.close();
    server.app.server.closeAllConnections();
    await closing;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

for (const subscribers of [0, 1, 5]) console.log(JSON.stringify(await run(subscribers)));
