/**
 * The web console inside `npm run bench`: time to first render of the image list with 1,000 images
 * in Debian's chromium, and the production bundle's gzip size (bench/console-bench.ts). It runs on
 * a server of its own (in-process, SQLite, authentication on, as the console needs to sign in), so
 * once, beside the Wharf target; Distribution has no console.
 */
import { existsSync } from 'node:fs';
import { CHROMIUM } from '../../test/support/browser.js';
import { bundleSizes, ConsoleBench } from '../console-bench.js';
import type { WorkloadItem } from './item.js';

const IMAGES = 1000;
let bench: ConsoleBench | undefined;

export const consoleItem: WorkloadItem = {
  id: 'console',
  title: `web console: first render of the image list with ${IMAGES} images`,
  unit: 'ms',
  better: 'lower',
  ownServer: true,
  unsupported: { distribution: 'has no web console', 'wharf-pg': 'runs once, on an in-process SQLite server of its own (see the Wharf column)' },
  extras: [{ key: 'bundleGzipKiB', title: 'web console: production bundle (gzip)', unit: 'KiB', better: 'lower' }],
  async setup() {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is not installed (Debian package "chromium")`);
    bench ??= await ConsoleBench.start(IMAGES);
  },
  async run() {
    if (!bench) throw new Error('the console bench did not start');
    return { value: await bench.firstRender(), extra: { bundleGzipKiB: bundleSizes().gzip / 1024 } };
  },
};

/** Stops the console item's server and browser (run.ts's cleanup). */
export async function stopConsoleBench(): Promise<void> {
  const running = bench;
  bench = undefined;
  await running?.stop();
}
