/**
 * Vulnerability Advisor scan throughput, in process: `analyzeImage` (the scan job's layer reading
 * and detection) over a generated three-layer image read from disk, in MiB of layer data (as
 * stored, compressed) per second. Its physical limit is the same layers merely decompressed and
 * split into tar entries (node:zlib or fzstd, then tar-stream, no detection), measured in the
 * same round. Wharf only: Distribution has no scanner.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import tar from 'tar-stream';
import { analyzeImage } from '../../src/scanner/analyze.js';
import { progress } from '../progress.js';
import { generateScanImage, type GeneratedImage, type GeneratedLayer } from '../scan-image.js';
import { median } from '../stats.js';
import type { WorkloadItem } from './item.js';
import { MIB } from './item.js';

let image: Promise<GeneratedImage> | undefined;

async function theImage(tarMib: number): Promise<GeneratedImage> {
  image ??= (async () => {
    const t0 = performance.now();
    const generated = await generateScanImage(tarMib);
    process.once('exit', () => generated.remove());
    const mib = (layers: GeneratedLayer[]) => (layers.reduce((s, l) => s + l.size, 0) / MIB).toFixed(0);
    progress(`  generated the scan image in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${generated.files} files, ${(generated.tarBytes / MIB).toFixed(0)} MiB of tar, ${mib(generated.gzip)} MiB gzip, ${generated.zstd.length ? `${mib(generated.zstd)} MiB zstd` : 'no zstd command'}`);
    return generated;
  })();
  return image;
}

const open = (layer: GeneratedLayer) => async (): Promise<Readable> => createReadStream(layer.file);

/** Decompress + tar parse, every entry's data drained, nothing looked at. */
async function rawDecode(layers: GeneratedLayer[]): Promise<void> {
  for (const layer of layers) {
    const extract = tar.extract();
    const drained = (async () => {
      for await (const entry of extract) entry.resume();
    })();
    const source = createReadStream(layer.file);
    if (layer.mediaType.endsWith('+gzip')) await pipeline(source, createGunzip(), extract);
    else await pipeline(source, zstdTransform(), extract);
    await drained;
  }
}

/** fzstd as a stream, as the scanner uses it (without the scanner's frame walking and limits). */
function zstdTransform(): (source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  return async function* decode(source) {
    const out: Uint8Array[] = [];
    const d = new Decompress((chunk) => { out.push(chunk); });
    const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.length);
    for await (const c of source) {
      d.push(c);
      while (out.length) yield buf(out.shift()!);
    }
    d.push(new Uint8Array(0), true);
    while (out.length) yield buf(out.shift()!);
  };
}

function scanItem(compression: 'gzip' | 'zstd'): WorkloadItem {
  const raw: number[] = [];
  return {
    id: `scan-${compression}`,
    title: `Vulnerability Advisor scan, ${compression} layers`,
    unit: 'MiB/s',
    better: 'higher',
    ownServer: true,
    unsupported: { distribution: '–', 'wharf-pg': '–' },
    extras: [
      { key: 'tarMiBs', title: `scan, ${compression}: decompressed tar MiB/s`, unit: 'MiB/s', better: 'higher' },
      { key: 'rawMiBs', title: `raw ${compression === 'gzip' ? 'gunzip' : 'unzstd'} + tar parse, no detection (the limit)`, unit: 'MiB/s', better: 'higher' },
      { key: 'layerMiB', title: `scan, ${compression}: layer data per image`, unit: 'MiB', better: 'higher' },
      { key: 'packages', title: `scan, ${compression}: packages found`, unit: 'pkgs', better: 'higher' },
    ],
    limit: () => (raw.length ? { value: median(raw), label: `${compression === 'gzip' ? 'node:zlib' : 'fzstd'} + tar-stream, same layers` } : undefined),
    async setup(ctx) {
      const generated = await theImage(ctx.options.scanImageMib);
      if (generated[compression].length === 0) throw new Error('no zstd command to compress the layers');
    },
    async run(ctx, round) {
      const generated = await theImage(ctx.options.scanImageMib);
      const layers = generated[compression];
      const layerBytes = layers.reduce((s, l) => s + l.size, 0);
      const timedRaw = async () => {
        const t0 = performance.now();
        await rawDecode(layers);
        return layerBytes / MIB / ((performance.now() - t0) / 1000);
      };
      const timedScan = async () => {
        const t0 = performance.now();
        const analysis = await analyzeImage({ layers: layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size, open: open(l) })) });
        const seconds = (performance.now() - t0) / 1000;
        if (analysis.stats.bytesRead !== layerBytes) throw new Error(`the scan read ${analysis.stats.bytesRead} of ${layerBytes} bytes`);
        return { seconds, tar: analysis.stats.bytesDecompressed, packages: analysis.packages.length };
      };
      // Alternate which goes first, so neither always gets the warmer page cache and JIT.
      let rawMiBs: number;
      let scan: Awaited<ReturnType<typeof timedScan>>;
      if (round % 2) {
        rawMiBs = await timedRaw();
        scan = await timedScan();
      } else {
        scan = await timedScan();
        rawMiBs = await timedRaw();
      }
      raw.push(rawMiBs);
      return {
        value: layerBytes / MIB / scan.seconds,
        extra: { tarMiBs: scan.tar / MIB / scan.seconds, rawMiBs, layerMiB: layerBytes / MIB, packages: scan.packages },
      };
    },
  };
}

export const scanGzip = scanItem('gzip');
export const scanZstd = scanItem('zstd');
