/**
 * The web console's figures: the size of its production bundle (as built into dist/console, raw
 * and gzip) and the time to first render of the image list with 1,000 images, in Debian's
 * chromium against an in-process server (SQLite) seeded over /v2/.
 *
 *   node --import tsx bench/console.ts [--images 1000] [--rounds 5]
 *
 * Needs a build first (npm run build) and /usr/bin/chromium. Writes bench/results/console-<date>.md.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { startTestServer, TEST_ADMIN_PASSWORD } from '../test/support/server.js';
import { launchChromium } from '../test/support/browser.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { images: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '5' } } });
const imageCount = Number(values.images);
const rounds = Number(values.rounds);

function bundleSizes(): { files: Array<{ name: string; raw: number; gzip: number }>; raw: number; gzip: number } {
  const assets = path.join(root, 'dist', 'console', 'assets');
  const files = readdirSync(assets).map((name) => {
    const bytes = readFileSync(path.join(assets, name));
    return { name, raw: statSync(path.join(assets, name)).size, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  const index = readFileSync(path.join(root, 'dist', 'console', 'index.html'));
  files.push({ name: 'index.html', raw: index.length, gzip: gzipSync(index, { level: 9 }).length });
  return { files, raw: files.reduce((s, f) => s + f.raw, 0), gzip: files.reduce((s, f) => s + f.gzip, 0) };
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** 1,000 images over /v2/ in 10 repositories: one shared layer, a config of their own, one tag each. */
async function seed(base: string, auth: string): Promise<void> {
  const put = async (pathname: string, body: Buffer, type: string, method = 'POST') => {
    const res = await fetch(`${base}${pathname}`, { method, headers: { Authorization: auth, 'Content-Type': type }, body });
    if (res.status !== 201) throw new Error(`${method} ${pathname}: ${res.status} ${await res.text()}`);
  };
  const layer = gzipSync(randomBytes(4096));
  const work: Array<() => Promise<void>> = [];
  for (let i = 0; i < imageCount; i++) {
    work.push(async () => {
      const repo = `bench/app-${i % 10}`;
      if (i < 10) await put(`/v2/${repo}/blobs/uploads/?digest=${sha(layer)}`, layer, 'application/octet-stream');
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, n: i }));
      await put(`/v2/${repo}/blobs/uploads/?digest=${sha(config)}`, config, 'application/octet-stream');
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
      }));
      await put(`/v2/${repo}/manifests/v${i}`, manifest, 'application/vnd.oci.image.manifest.v1+json', 'PUT');
    });
  }
  // The shared layer first (one per repository), then eight pushes at a time.
  for (const job of work.splice(0, 10)) await job();
  while (work.length) await Promise.all(work.splice(0, 8).map((job) => job()));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const sizes = bundleSizes();
const server = await startTestServer('sqlite', { auth: { enabled: true }, scanner: { enabled: false } });
const browser = await launchChromium();
try {
  const auth = `Basic ${Buffer.from(`admin:${TEST_ADMIN_PASSWORD}`).toString('base64')}`;
  await fetch(`${server.url}/api/v1/namespaces`, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'bench' }) });
  const seeded = performance.now();
  await seed(server.url, auth);
  console.log(`seeded ${imageCount} images in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(120_000);
  await page.goto(server.url);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password', { exact: true }).fill(TEST_ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Console' }).waitFor();

  const times: number[] = [];
  for (let round = 0; round < rounds + 1; round++) {
    // A full page load of /images each round: the document, the bundle (from cache after the first
    // round, as a returning person has it), the API calls and the first rows on screen.
    await page.goto(`${server.url}/images`);
    await page.getByTestId('image-row').first().waitFor();
    const status = await page.getByRole('status').filter({ hasText: 'images' }).innerText();
    if (!status.includes(`of ${imageCount} images`)) throw new Error(`the list shows "${status}", not ${imageCount} images`);
    const ms = Number(await page.evaluate('performance.now()'));
    if (round > 0) times.push(ms); // round 0 warms the server's caches and the browser's
    console.log(`round ${round}: first render of the image list ${ms.toFixed(0)} ms`);
  }
  await context.close();

  const date = new Date().toISOString().slice(0, 10);
  const lines = [
    `# Web console, ${date}`,
    '',
    `Production bundle (dist/console): ${(sizes.raw / 1024).toFixed(1)} KiB, ${(sizes.gzip / 1024).toFixed(1)} KiB gzip (level 9).`,
    '',
    '| file | bytes | gzip |',
    '| --- | ---: | ---: |',
    ...sizes.files.map((f) => `| ${f.name} | ${f.raw} | ${f.gzip} |`),
    '',
    `Time to first render of the image list with ${imageCount} images (navigation start to the first row on screen, chromium headless, 1280×900, `
      + `SQLite, in-process server on this machine): median ${median(times).toFixed(0)} ms of ${rounds} rounds (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}).`,
    '',
    `Reproduce: \`npm run build && node --import tsx bench/console.ts --images ${imageCount} --rounds ${rounds}\``,
  ];
  mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
  const out = path.join(root, 'bench', 'results', `console-${date}.md`);
  writeFileSync(out, `${lines.join('\n')}\n`);
  console.log(lines.join('\n'));
  console.log(`written to ${out}`);
} finally {
  await browser.close();
  await server.stop();
}
