/**
 * What the Signed column costs: GET /api/v1/images?limit=100 on a namespace of 100 images, unsigned,
 * then each with a GPG simple signature verified by a trusted key (SQLite, in-process server).
 * Run: node --import tsx bench/signed-image-list.ts [images]
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { startTestServer, TEST_ADMIN_PASSWORD } from '../test/support/server.js';
import { basic, pushImage, send } from '../test/support/iam.js';
import { gpgSign, gpgTestKey, simpleSigningPayload } from '../test/support/signatures.js';

const count = Number(process.argv[2] ?? 100);
const server = await startTestServer('sqlite', { auth: { enabled: true }, scanner: { enabled: false } });
const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });
try {
  const images = [];
  for (let i = 0; i < count; i++) images.push(await pushImage(server.url, 'bench/app', `t${i}`, admin));
  const list = async () => {
    const times: number[] = [];
    for (let round = 0; round < 10; round++) {
      const started = performance.now();
      const res = await fetch(`${server.url}/api/v1/images?namespace=bench&limit=100`, { headers: { Authorization: admin } });
      await res.json();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return `median ${times[5]!.toFixed(1)} ms, max ${times[9]!.toFixed(1)} ms`;
  };
  console.log(`${count} unsigned images: ${await list()}`);
  const key = await gpgTestKey('bench');
  await fetch(`${server.url}/api/v1/trust/keys`, { method: 'POST', headers: { Authorization: admin, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'bench', kind: 'gpg', publicKey: key.publicKey }) });
  for (const image of images) {
    const content = await gpgSign(key, simpleSigningPayload(image.digest, 'bench/app'));
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, name: `${image.digest}@${randomBytes(16).toString('hex')}`, type: 'atomic', content: content.toString('base64') }));
    await send(server.url, { method: 'PUT', path: `/extensions/v2/bench/app/signatures/${image.digest}`, headers: { 'Content-Type': 'application/json' }, body }, admin);
  }
  console.log(`${count} images with a verified GPG signature each: ${await list()}`);
} finally {
  await server.stop();
}
