import { MediaType } from '../../oci/media-types.js';
import type { Page } from '../../registry/discovery.js';
import { byMethod, type Handler, type HandlerContext } from './handler.js';

type TagsRoute = { family: 'tags'; name: string };
type CatalogRoute = { family: 'catalog' };
type ReferrersRoute = { family: 'referrers'; name: string; digest: string };

/** RFC 5988 link to the next page, as the spec shows it. */
function nextLink(path: string, n: number, page: Page): string | undefined {
  if (page.next === undefined) return undefined;
  return `<${path}?n=${n}&last=${encodeURIComponent(page.next)}>; rel="next"`;
}

export async function sendJson(reply: HandlerContext<unknown>['reply'], method: string, body: unknown, type = 'application/json'): Promise<void> {
  const json = Buffer.from(JSON.stringify(body));
  reply.code(200).type(type).header('Content-Length', json.length);
  await reply.send(method === 'HEAD' ? undefined : json);
}

async function tagsList({ registry, route, query, request, reply }: HandlerContext<TagsRoute>): Promise<void> {
  const n = registry.discovery.pageSize(query.get('n') ?? undefined);
  const page = await registry.discovery.tags(route.name, n, query.get('last') ?? undefined);
  const link = nextLink(`/v2/${route.name}/tags/list`, n, page);
  if (link) reply.header('Link', link);
  await sendJson(reply, request.method, { name: route.name, tags: page.items });
}

async function catalogList({ registry, visibility, query, request, reply }: HandlerContext<CatalogRoute>): Promise<void> {
  const n = registry.discovery.pageSize(query.get('n') ?? undefined);
  const page = await registry.discovery.catalog(n, query.get('last') ?? undefined, (name) => visibility.canPull(name));
  const link = nextLink('/v2/_catalog', n, page);
  if (link) reply.header('Link', link);
  await sendJson(reply, request.method, { repositories: page.items });
}

async function referrersList({ registry, route, query, request, reply }: HandlerContext<ReferrersRoute>): Promise<void> {
  const artifactType = query.get('artifactType') ?? undefined;
  const index = await registry.discovery.referrers(route.name, route.digest, artifactType);
  if (artifactType !== undefined) reply.header('OCI-Filters-Applied', 'artifactType');
  await sendJson(reply, request.method, index, MediaType.OciIndex);
}

export const tags: Handler<TagsRoute> = byMethod({ GET: tagsList, HEAD: tagsList });
export const catalog: Handler<CatalogRoute> = byMethod({ GET: catalogList, HEAD: catalogList });
export const referrers: Handler<ReferrersRoute> = byMethod({ GET: referrersList, HEAD: referrersList });
