/** A whole image pushed and pulled by a real client (skopeo), wall time. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeOciLayout, type OciLayout } from '../oci-layout.js';
import { MIB, timed, type TargetContext, type WorkloadItem } from './item.js';

const run = promisify(execFile);
const SKOPEO = process.env.BENCH_SKOPEO_BIN ?? 'skopeo';

function host(ctx: TargetContext): string {
  return new URL(ctx.server.url).host;
}

async function push(ctx: TargetContext, layout: OciLayout, repo: string): Promise<void> {
  await run(SKOPEO, ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout.dir}:${layout.tag}`, `docker://${host(ctx)}/${repo}:${layout.tag}`]);
}

let layout: OciLayout | undefined;
process.once('exit', () => { if (layout) rmSync(layout.dir, { recursive: true, force: true }); });

export const skopeoPush: WorkloadItem = {
  id: 'skopeo-push',
  title: 'skopeo image push',
  unit: 'ms',
  better: 'lower',
  extras: [{ key: 'mib', title: 'skopeo image size', unit: 'MiB', better: 'higher' }],
  async prepare(_round, options) {
    if (layout) rmSync(layout.dir, { recursive: true, force: true });
    // New layers each round: skopeo's blob-info cache would otherwise mount instead of upload.
    layout = writeOciLayout(options.skopeoLayers, options.skopeoLayerMib * MIB);
  },
  async run(ctx, round) {
    const ms = await timed(() => push(ctx, layout!, `bench/skopeo-${round}`));
    return { value: ms, extra: { mib: layout!.bytes / MIB } };
  },
};

const pullLayouts = new Map<string, OciLayout>();

export const skopeoPull: WorkloadItem = {
  id: 'skopeo-pull',
  title: 'skopeo image pull',
  unit: 'ms',
  better: 'lower',
  async setup(ctx) {
    const image = writeOciLayout(ctx.options.skopeoLayers, ctx.options.skopeoLayerMib * MIB);
    await push(ctx, image, 'bench/skopeo-pull');
    pullLayouts.set(ctx.target, image);
    rmSync(image.dir, { recursive: true, force: true });
  },
  async run(ctx) {
    const image = pullLayouts.get(ctx.target)!;
    const dest = mkdtempSync(path.join(os.tmpdir(), 'wharf-bench-pull-'));
    try {
      const ms = await timed(() => run(SKOPEO, ['copy', '--quiet', '--src-tls-verify=false', `docker://${host(ctx)}/bench/skopeo-pull:${image.tag}`, `oci:${dest}:${image.tag}`]));
      return { value: ms };
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  },
};
