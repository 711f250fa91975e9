/**
 * The web console's figures, standalone: bundle size and the time to first render of the image
 * list (bench/console-bench.ts; `npm run bench` runs the same as its `console` item).
 *
 *   node --import tsx bench/console.ts [--images 1000] [--rounds 5]
 *
 * Needs a build first (npm run build) and /usr/bin/chromium. Writes bench/results/console-<date>.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleSizes, ConsoleBench } from './console-bench.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { images: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '5' } } });
const imageCount = Number(values.images);
const rounds = Number(values.rounds);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const sizes = bundleSizes();
const bench = await ConsoleBench.start(imageCount);
try {
  console.log(`seeded ${imageCount} images in ${bench.seedSeconds.toFixed(1)} s`);
  const times: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const ms = await bench.firstRender();
    times.push(ms);
    console.log(`round ${round}: first render of the image list ${ms.toFixed(0)} ms`);
  }

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
  await bench.stop();
}
