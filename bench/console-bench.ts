/**
 * The web console's figures, shared by bench/console.ts (standalone, writes a results file) and the
 * `console` item of `npm run bench`: the production bundle's size (dist/console, raw and gzip) and
 * the time to first render of the image list with 1,000 images in Debian's chromium, against an
 * in-process server (SQLite, authentication on: the console signs in) seeded over /v2/.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../test/support/server.js';
import { launchChromium } from '../test/support/browser.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface BundleSizes { files: Array<{ name: string; raw: number; gzip: number }>; raw: number; gzip: number }

export function bundleSizes(): BundleSizes {
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

/** `count` images over /v2/ in 10 repositories: one shared layer, a config of their own, one tag each. */
async function seed(base: string, auth: string, count: number): Promise<void> {
  const put = async (pathname: string, body: Buffer, type: string, method = 'POST') => {
    const res = await fetch(`${base}${pathname}`, { method, headers: { Authorization: auth, 'Content-Type': type }, body });
    if (res.status !== 201) throw new Error(`${method} ${pathname}: ${res.status} ${await res.text()}`);
  };
  const layer = gzipSync(randomBytes(4096));
  const work: Array<() => Promise<void>> = [];
  for (let i = 0; i < count; i++) {
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

/** A seeded server and a signed-in chromium tab, ready to time the image list. */
export class ConsoleBench {
  private constructor(private readonly server: TestServer, private readonly browser: Browser, private readonly context: BrowserContext, private readonly page: Page, readonly images: number, readonly seedSeconds: number) {}

  static async start(images: number): Promise<ConsoleBench> {
    const server = await startTestServer('sqlite', { auth: { enabled: true }, scanner: { enabled: false } });
    let browser: Browser | undefined;
    try {
      const auth = `Basic ${Buffer.from(`admin:${TEST_ADMIN_PASSWORD}`).toString('base64')}`;
      await fetch(`${server.url}/api/v1/namespaces`, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'bench' }) });
      const seeded = performance.now();
      await seed(server.url, auth, images);
      const seedSeconds = (performance.now() - seeded) / 1000;
      browser = await launchChromium();
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      page.setDefaultTimeout(120_000);
      await page.goto(server.url);
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password', { exact: true }).fill(TEST_ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('navigation', { name: 'Console' }).waitFor();
      const bench = new ConsoleBench(server, browser, context, page, images, seedSeconds);
      await bench.firstRender(); // warms the server's caches and the browser's
      return bench;
    } catch (err) {
      await browser?.close().catch(() => {});
      await server.stop();
      throw err;
    }
  }

  /**
   * Milliseconds from navigation start to the image list's first row on screen: a full page load of
   * /images (the document, the bundle from cache as a returning person has it, the API calls).
   */
  async firstRender(): Promise<number> {
    await this.page.goto(`${this.server.url}/images`);
    await this.page.getByTestId('image-row').first().waitFor();
    const status = await this.page.getByRole('status').filter({ hasText: 'images' }).innerText();
    if (!status.includes(`of ${this.images} images`)) throw new Error(`the list shows "${status}", not ${this.images} images`);
    return Number(await this.page.evaluate('performance.now()'));
  }

  async stop(): Promise<void> {
    await this.context.close().catch(() => {});
    await this.browser.close().catch(() => {});
    await this.server.stop();
  }
}
