/**
 * Tags list of a repository with thousands of tags and the catalog of thousands of repositories,
 * each read whole and page by page (n=100, following Link headers).
 */
import { runPool } from '../client.js';
import { progress } from '../progress.js';
import { timed, type TargetContext, type WorkloadItem } from './item.js';
import { mountSeedImage, pushSeedImage } from './seed.js';

const TAGS_REPO = 'bench/tags';

/** Runs `seed` once per target, whichever of the items sharing it runs first. */
function oncePerTarget(seed: (ctx: TargetContext) => Promise<void>): (ctx: TargetContext) => Promise<void> {
  const done = new Map<string, Promise<void>>();
  return (ctx) => {
    let p = done.get(ctx.target);
    if (!p) done.set(ctx.target, p = seed(ctx));
    return p;
  };
}
const SEED_REPO = 'bench/seed';

const seedTags = oncePerTarget(async (ctx) => {
  progress(`  ${ctx.target}: tagging ${ctx.options.tags} tags`);
  const image = await pushSeedImage(ctx.client, TAGS_REPO, 't00000');
  await runPool(ctx.options.tags - 1, 32, (i) => ctx.client.putManifest(TAGS_REPO, `t${String(i + 1).padStart(5, '0')}`, image.manifest));
});

const seedCatalog = oncePerTarget(async (ctx) => {
  progress(`  ${ctx.target}: creating ${ctx.options.repos} repositories`);
  await pushSeedImage(ctx.client, SEED_REPO, 'latest');
  await runPool(ctx.options.repos, 32, (i) => mountSeedImage(ctx.client, SEED_REPO, `bench/catalog/r${String(i).padStart(5, '0')}`, 'latest'));
});

function listItem(id: string, title: string, path: (ctx: TargetContext) => string, key: 'tags' | 'repositories', expected: (ctx: TargetContext) => number, setup?: (ctx: TargetContext) => Promise<void>): WorkloadItem {
  return {
    id,
    title,
    unit: 'ms',
    better: 'lower',
    extras: [{ key: 'pages', title: `${title}: requests per listing`, unit: 'req', better: 'lower' }],
    setup,
    async run(ctx) {
      const times: number[] = [];
      let pages = 0;
      for (let i = 0; i < ctx.options.listRepeats; i++) {
        let names = 0;
        times.push(await timed(async () => ({ names, pages } = await ctx.client.listAll(path(ctx), key))));
        if (names < expected(ctx)) throw new Error(`${id}: listed ${names} names, expected at least ${expected(ctx)}`);
      }
      times.sort((a, b) => a - b);
      return { value: times[times.length >> 1]!, extra: { pages } };
    },
  };
}

export const tagsWhole = listItem('tags-whole', 'tags list (whole)', () => `/v2/${TAGS_REPO}/tags/list`, 'tags', (ctx) => ctx.options.tags, seedTags);
export const tagsPaged = listItem('tags-paged', 'tags list (n=100 pages)', () => `/v2/${TAGS_REPO}/tags/list?n=100`, 'tags', (ctx) => ctx.options.tags, seedTags);
export const catalogWhole = listItem('catalog-whole', 'catalog (whole)', () => '/v2/_catalog?n=100000', 'repositories', (ctx) => ctx.options.repos, seedCatalog);
export const catalogPaged = listItem('catalog-paged', 'catalog (n=100 pages)', () => '/v2/_catalog?n=100', 'repositories', (ctx) => ctx.options.repos, seedCatalog);
