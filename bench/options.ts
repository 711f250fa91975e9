/**
 * Benchmark settings: a preset (quick or full), then BENCH_* environment variables, then flags.
 * Every setting is both a flag (--large-blob-mib 512) and a variable (BENCH_LARGE_BLOB_MIB=512).
 */
export const TARGETS = ['wharf', 'distribution', 'wharf-pg', 'wharf-s3', 'distribution-s3', 'wharf-s3-redirect', 'distribution-s3-redirect'] as const;
export type TargetName = (typeof TARGETS)[number];

export interface BenchOptions {
  mode: 'quick' | 'full';
  rounds: number;
  /** Size of the large blob pushed and pulled; memory is sampled during these. */
  largeBlobMib: number;
  chunkMib: number;
  smallBlobs: number;
  smallBlobKib: number;
  smallConcurrency: number;
  /** Seconds each request-rate measurement runs (manifest GET/HEAD, empty HTTP server). */
  durationSeconds: number;
  connections: number;
  rolloutClients: number;
  rolloutBlobMib: number;
  tags: number;
  repos: number;
  /** Full-listing repetitions per round for tags and catalog. */
  listRepeats: number;
  skopeoLayers: number;
  skopeoLayerMib: number;
  /** Tar data (uncompressed) of the generated image the Vulnerability Advisor items scan. */
  scanImageMib: number;
  /** One-image repositories and tags of the big repository seeded for the scale item. */
  scaleRepos: number;
  scaleTags: number;
  /** Largest blob of the S3 push and pull items (radosgw keeps it in RAM); the small one is 1/8 of it. */
  s3BlobMib: number;
  /** Blobs seeded for the garbage-collection item, half of them garbage. */
  gcBlobs: number;
  /** Bytes hashed / written / sent when measuring the physical limits. */
  limitMib: number;
  targets: TargetName[];
  /** Run only these items (comma-separated ids); empty = all. */
  only: string[];
  skip: string[];
  build: boolean;
  outDir: string;
}

const PRESETS: Record<'quick' | 'full', Omit<BenchOptions, 'mode' | 'targets' | 'only' | 'skip' | 'build' | 'outDir'>> = {
  quick: {
    rounds: 3, largeBlobMib: 128, chunkMib: 8, smallBlobs: 200, smallBlobKib: 16, smallConcurrency: 32,
    durationSeconds: 1.5, connections: 64, rolloutClients: 50, rolloutBlobMib: 8, tags: 2000, repos: 1000,
    listRepeats: 5, skopeoLayers: 3, skopeoLayerMib: 4, scanImageMib: 128, limitMib: 256,
    scaleRepos: 5000, scaleTags: 10000,
    s3BlobMib: 16, gcBlobs: 10000,
  },
  full: {
    rounds: 5, largeBlobMib: 2048, chunkMib: 8, smallBlobs: 2000, smallBlobKib: 16, smallConcurrency: 64,
    durationSeconds: 10, connections: 64, rolloutClients: 50, rolloutBlobMib: 128, tags: 5000, repos: 2000,
    listRepeats: 20, skopeoLayers: 5, skopeoLayerMib: 64, scanImageMib: 2048, limitMib: 2048,
    scaleRepos: 50000, scaleTags: 100000,
    s3BlobMib: 256, gcBlobs: 100000,
  },
};

const HELP = `npm run bench -- [options]

  --quick                 small sizes, 3 rounds (under 3 minutes)
  --full                  large blob 2 GiB, 5 rounds (default)
  --rounds N              interleaved rounds per item (min 3)
  --large-blob-mib N      large blob size in MiB (push, pull, memory)
  --chunk-mib N           PATCH chunk size for the chunked push (8)
  --small-blobs N         blobs in the concurrent small-blob push
  --small-blob-kib N      size of each small blob
  --small-concurrency N   concurrent small-blob pushes
  --duration-seconds S    length of each request-rate measurement
  --connections N         connections for manifest GET/HEAD (64)
  --rollout-clients N     clients pulling one blob at once (50)
  --rollout-blob-mib N    size of that blob
  --tags N                tags in the tags-list repository (5000)
  --repos N               repositories in the catalog (2000)
  --list-repeats N        full listings per round for tags and catalog
  --skopeo-layers N       layers of the image skopeo pushes and pulls
  --skopeo-layer-mib N    size of each layer
  --scan-image-mib N      tar data of the image scanned by the Vulnerability Advisor items (3 layers)
  --scale-repos N         one-image repositories seeded for the scale item
  --scale-tags N          tags of its big repository
  --s3-blob-mib N         largest blob of the S3 (radosgw) push and pull items; the small one is 1/8
  --gc-blobs N            blobs seeded for the garbage-collection item, half of them garbage
  --limit-mib N           bytes used to measure the physical limits
  --targets a,b,c         of: ${TARGETS.join(', ')}
  --only ids / --skip ids item ids (see the JSON output), comma-separated
  --no-build              do not run tsc before starting Wharf (it runs only when src/ is newer than dist/)
  --out DIR               where results go (bench/results)

Every option is also a BENCH_<NAME> environment variable, e.g. BENCH_LARGE_BLOB_MIB=512.`;

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function envName(key: string): string {
  return `BENCH_${kebab(key).replace(/-/g, '_').toUpperCase()}`;
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      console.log(HELP);
      process.exit(0);
    }
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"; see --help`);
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (['quick', 'full', 'no-build'].includes(arg.slice(2))) flags.set(arg.slice(2), 'true');
    else {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value; see --help`);
      flags.set(arg.slice(2), value);
    }
  }
  const mode = flags.has('quick') || env.BENCH_MODE === 'quick' ? 'quick' : 'full';
  const preset = PRESETS[mode];
  const numbers = {} as Record<keyof typeof preset, number>;
  for (const key of Object.keys(preset) as Array<keyof typeof preset>) {
    const raw = flags.get(kebab(key)) ?? env[envName(key)];
    flags.delete(kebab(key));
    const value = raw === undefined ? preset[key] : Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${kebab(key)} must be a positive number, not "${raw}"`);
    numbers[key] = value;
  }
  if (numbers.rounds < 3) throw new Error('--rounds must be at least 3 (medians of fewer mean little)');
  const list = (name: string): string[] => (flags.get(name) ?? env[`BENCH_${name.toUpperCase()}`] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const targets = list('targets');
  for (const t of targets) if (!(TARGETS as readonly string[]).includes(t)) throw new Error(`unknown target "${t}": use ${TARGETS.join(', ')}`);
  const options: BenchOptions = {
    mode,
    ...numbers,
    targets: targets.length ? (targets as TargetName[]) : [...TARGETS],
    only: list('only'),
    // Quick mode leaves the zstd scan to the full run, to stay under 3 minutes.
    skip: list('skip').length > 0 || mode !== 'quick' ? list('skip') : ['scan-zstd'],
    build: !flags.has('no-build') && env.BENCH_NO_BUILD !== '1',
    outDir: flags.get('out') ?? env.BENCH_OUT ?? new URL('./results/', import.meta.url).pathname,
  };
  for (const known of ['quick', 'full', 'no-build', 'targets', 'only', 'skip', 'out']) flags.delete(known);
  if (flags.size > 0) throw new Error(`unknown option --${[...flags.keys()][0]}; see --help`);
  return options;
}
