import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import {
  OCI_EMPTY, OCI_INDEX, OCI_LAYER, OCI_MANIFEST,
  descriptor, digestOf, expectError, followPages, pushBlob, pushImage, putManifest, randomBlob, repoName, type Descriptor,
} from '../support/http.js';

interface TagList { name: string; tags: string[] }
interface Catalog { repositories: string[] }
interface Index { schemaVersion: number; mediaType: string; manifests: Descriptor[] }

// OCI Distribution Spec v1.1: content discovery (end-8a, end-8b, end-12a, end-12b) and the catalog.
for (const engine of engines()) {
  describe(`content discovery [${engine}]`, () => {
    let server: TestServer;
    before(async () => { server = await startTestServer(engine); });
    after(async () => { await server.stop(); });

    describe('tags list', () => {
      const tags = ['latest', 'v1.0', 'V2', 'a', 'A', '_x', 'a-b', 'a_b', 'a.b', 'zz', '10', '9', 'b'];
      let name: string;
      before(async () => {
        name = repoName();
        const image = await pushImage(server.url, name);
        for (const tag of tags) assert.equal((await putManifest(server.url, name, tag, image.bytes)).status, 201);
      });
      const sorted = (): string[] => [...tags].sort();

      it('lists every tag in lexical (byte) order', async () => {
        const res = await fetch(`${server.url}/v2/${name}/tags/list`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(res.headers.get('link'), null, 'one page, no Link');
        assert.deepEqual(await res.json(), { name, tags: sorted() });
      });

      it('n limits the page, Link points to the next one, and following links yields every tag once, in order', async () => {
        const { pages, links } = await followPages<TagList>(server.url, `/v2/${name}/tags/list?n=4`);
        assert.equal(pages.length, Math.ceil(tags.length / 4));
        assert.equal(links.length, pages.length - 1, 'every page but the last has a Link');
        for (const [i, page] of pages.entries()) {
          assert.equal(page.name, name);
          assert.equal(page.tags.length, i < pages.length - 1 ? 4 : tags.length - 4 * (pages.length - 1));
        }
        assert.deepEqual(pages.flatMap((p) => p.tags), sorted());
      });

      it('n exactly the number of tags returns them all', async () => {
        const res = await fetch(`${server.url}/v2/${name}/tags/list?n=${tags.length}`);
        assert.deepEqual(((await res.json()) as TagList).tags, sorted());
        assert.equal(res.headers.get('link'), null);
      });

      it('last returns the tags after it, with or without n', async () => {
        const all = sorted();
        const res = await fetch(`${server.url}/v2/${name}/tags/list?last=${encodeURIComponent(all[4]!)}`);
        assert.deepEqual(((await res.json()) as TagList).tags, all.slice(5));
        const res2 = await fetch(`${server.url}/v2/${name}/tags/list?n=2&last=${encodeURIComponent(all[4]!)}`);
        assert.deepEqual(((await res2.json()) as TagList).tags, all.slice(5, 7));
        const res3 = await fetch(`${server.url}/v2/${name}/tags/list?last=${encodeURIComponent(all[all.length - 1]!)}`);
        assert.deepEqual(((await res3.json()) as TagList).tags, []);
        // `last` need not be an existing tag: the list continues after where it would sort.
        const res4 = await fetch(`${server.url}/v2/${name}/tags/list?last=a0`);
        assert.deepEqual(((await res4.json()) as TagList).tags, all.filter((t) => t > 'a0'));
      });

      it('n=0 returns an empty list and no Link', async () => {
        const res = await fetch(`${server.url}/v2/${name}/tags/list?n=0`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('link'), null);
        assert.deepEqual(await res.json(), { name, tags: [] });
      });

      for (const bad of ['-1', 'abc', '1.5', '1e3']) {
        it(`n=${bad} is 400`, async () => {
          const res = await fetch(`${server.url}/v2/${name}/tags/list?n=${bad}`);
          await expectError(res, 400, 'PAGINATION_NUMBER_INVALID');
        });
      }

      it('a repository without tags lists none', async () => {
        const untagged = repoName();
        await pushImage(server.url, untagged);
        assert.deepEqual(await (await fetch(`${server.url}/v2/${untagged}/tags/list`)).json(), { name: untagged, tags: [] });
      });

      it('an unknown repository is 404 NAME_UNKNOWN', async () => {
        await expectError(await fetch(`${server.url}/v2/${repoName('unknown')}/tags/list`), 404, 'NAME_UNKNOWN');
      });
    });

    describe('catalog', () => {
      const names: string[] = [];
      before(async () => {
        for (const n of ['cat/zeta', 'cat/alpha', 'cat/alpha/nested', 'cat/alpha-1', 'cat/beta', 'cat0']) {
          names.push(n);
          await pushBlob(server.url, n, randomBlob(4));
        }
      });

      it('lists repositories in lexical order', async () => {
        const res = await fetch(`${server.url}/v2/_catalog`);
        assert.equal(res.status, 200);
        const { repositories } = await res.json() as Catalog;
        assert.deepEqual(repositories, [...repositories].sort());
        for (const n of names) assert.ok(repositories.includes(n), n);
      });

      it('n and Link paginate through the same list', async () => {
        const full = (await (await fetch(`${server.url}/v2/_catalog`)).json() as Catalog).repositories;
        const { pages, links } = await followPages<Catalog>(server.url, '/v2/_catalog?n=2');
        assert.ok(pages.length >= 3);
        assert.equal(links.length, pages.length - 1);
        for (const page of pages.slice(0, -1)) assert.equal(page.repositories.length, 2);
        assert.deepEqual(pages.flatMap((p) => p.repositories), full);
      });

      it('last continues after a name; n=0 is empty without Link; bad n is 400', async () => {
        const full = (await (await fetch(`${server.url}/v2/_catalog`)).json() as Catalog).repositories;
        const after = await (await fetch(`${server.url}/v2/_catalog?last=${encodeURIComponent('cat/alpha')}`)).json() as Catalog;
        assert.deepEqual(after.repositories, full.filter((n) => n > 'cat/alpha'));
        const zero = await fetch(`${server.url}/v2/_catalog?n=0`);
        assert.equal(zero.status, 200);
        assert.equal(zero.headers.get('link'), null);
        assert.deepEqual(await zero.json(), { repositories: [] });
        await expectError(await fetch(`${server.url}/v2/_catalog?n=x`), 400, 'PAGINATION_NUMBER_INVALID');
      });
    });

    describe('referrers', () => {
      let name: string;
      let subject: Awaited<ReturnType<typeof pushImage>>;
      const pushed: Record<string, { digest: string; size: number; mediaType: string }> = {};
      const emptyConfig = Buffer.from('{}');

      before(async () => {
        name = repoName('refs');
        subject = await pushImage(server.url, name, 'app');
        const subj = { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.bytes.length };
        await pushBlob(server.url, name, emptyConfig);
        const sbomLayer = randomBlob(64);
        await pushBlob(server.url, name, sbomLayer);

        const put = async (key: string, body: object, mediaType: string): Promise<void> => {
          const bytes = Buffer.from(JSON.stringify(body));
          const res = await putManifest(server.url, name, digestOf(bytes), bytes, mediaType);
          assert.equal(res.status, 201, `${key}: ${await res.text()}`);
          assert.equal(res.headers.get('oci-subject'), subject.digest);
          pushed[key] = { digest: digestOf(bytes), size: bytes.length, mediaType };
        };
        // An artifact in the 1.1 style: artifactType set, empty config.
        await put('sbom', {
          schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sbom.v1',
          config: descriptor(OCI_EMPTY, emptyConfig), layers: [descriptor('application/spdx+json', sbomLayer)],
          subject: subj, annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', 'org.example.format': 'spdx' },
        }, OCI_MANIFEST);
        // An artifact in the 1.0 style: no artifactType, the config media type says what it is.
        const sigConfig = Buffer.from('{"sig":true}');
        await pushBlob(server.url, name, sigConfig);
        await put('signature', {
          schemaVersion: 2, mediaType: OCI_MANIFEST,
          config: descriptor('application/vnd.example.signature.config.v1+json', sigConfig), layers: [descriptor(OCI_EMPTY, emptyConfig)],
          subject: subj,
        }, OCI_MANIFEST);
        // An index referrer without artifactType: the descriptor has none.
        const child = await pushImage(server.url, name);
        await put('index', {
          schemaVersion: 2, mediaType: OCI_INDEX,
          manifests: [{ mediaType: OCI_MANIFEST, digest: child.digest, size: child.bytes.length }],
          subject: subj, annotations: { note: 'index' },
        }, OCI_INDEX);
        // An index referrer with artifactType.
        await put('typedIndex', {
          schemaVersion: 2, mediaType: OCI_INDEX, artifactType: 'application/vnd.example.bundle.v1',
          manifests: [], subject: subj,
        }, OCI_INDEX);
        // A manifest with another subject, and a referrer of the same subject in another repository.
        const unrelated = await pushImage(server.url, name);
        const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sbom.v1', config: descriptor(OCI_EMPTY, emptyConfig), layers: [descriptor(OCI_EMPTY, emptyConfig)], subject: { mediaType: OCI_MANIFEST, digest: unrelated.digest, size: unrelated.bytes.length } }));
        assert.equal((await putManifest(server.url, name, digestOf(bytes), bytes)).status, 201);
        const elsewhere = repoName('refs-other');
        await pushBlob(server.url, elsewhere, emptyConfig);
        const foreign = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sbom.v1', config: descriptor(OCI_EMPTY, emptyConfig), layers: [descriptor(OCI_EMPTY, emptyConfig)], subject: subj }));
        assert.equal((await putManifest(server.url, elsewhere, digestOf(foreign), foreign)).status, 201);
      });

      async function referrers(query = ''): Promise<{ res: Response; index: Index }> {
        const res = await fetch(`${server.url}/v2/${name}/referrers/${subject.digest}${query}`);
        assert.equal(res.status, 200);
        return { res, index: await res.json() as Index };
      }
      const byDigest = (index: Index): Map<string, Descriptor> => new Map(index.manifests.map((d) => [d.digest, d]));

      it('answers an image index with Content-Type application/vnd.oci.image.index.v1+json', async () => {
        const { res, index } = await referrers();
        assert.equal(res.headers.get('content-type'), OCI_INDEX);
        assert.equal(index.schemaVersion, 2);
        assert.equal(index.mediaType, OCI_INDEX);
        assert.equal(res.headers.get('oci-filters-applied'), null, 'no filter asked, none applied');
      });

      it('lists exactly the manifests of this repository whose subject is the digest', async () => {
        const { index } = await referrers();
        assert.deepEqual(index.manifests.map((d) => d.digest).sort(), Object.values(pushed).map((p) => p.digest).sort());
        for (const p of Object.values(pushed)) {
          const d = byDigest(index).get(p.digest)!;
          assert.equal(d.mediaType, p.mediaType);
          assert.equal(d.size, p.size);
        }
      });

      it('descriptors carry artifactType (the field, else the config media type; none for an index without one) and annotations', async () => {
        const m = byDigest((await referrers()).index);
        const sbom = m.get(pushed.sbom!.digest)!;
        assert.equal(sbom.artifactType, 'application/vnd.example.sbom.v1');
        assert.deepEqual(sbom.annotations, { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', 'org.example.format': 'spdx' });
        const sig = m.get(pushed.signature!.digest)!;
        assert.equal(sig.artifactType, 'application/vnd.example.signature.config.v1+json');
        assert.equal(sig.annotations, undefined);
        const idx = m.get(pushed.index!.digest)!;
        assert.equal('artifactType' in idx, false);
        assert.deepEqual(idx.annotations, { note: 'index' });
        assert.equal(m.get(pushed.typedIndex!.digest)!.artifactType, 'application/vnd.example.bundle.v1');
      });

      it('the empty config of an artifact is the two bytes {} and can be pulled', async () => {
        const res = await fetch(`${server.url}/v2/${name}/blobs/${digestOf(emptyConfig)}`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('docker-content-digest'), 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
        assert.equal(Buffer.from(await res.arrayBuffer()).toString(), '{}');
      });

      it('artifactType filters the list and answers OCI-Filters-Applied: artifactType', async () => {
        const { res, index } = await referrers(`?artifactType=${encodeURIComponent('application/vnd.example.sbom.v1')}`);
        assert.equal(res.headers.get('oci-filters-applied'), 'artifactType');
        assert.deepEqual(index.manifests.map((d) => d.digest), [pushed.sbom!.digest]);
        const byConfig = await referrers(`?artifactType=${encodeURIComponent('application/vnd.example.signature.config.v1+json')}`);
        assert.deepEqual(byConfig.index.manifests.map((d) => d.digest), [pushed.signature!.digest]);
        const none = await referrers('?artifactType=application/vnd.example.none');
        assert.equal(none.res.headers.get('oci-filters-applied'), 'artifactType');
        assert.deepEqual(none.index.manifests, []);
      });

      it('an unknown subject, or an unknown repository, answers 200 with an empty index', async () => {
        for (const url of [`/v2/${name}/referrers/${digestOf('nothing refers to me')}`, `/v2/${repoName('nowhere')}/referrers/${subject.digest}`]) {
          const res = await fetch(`${server.url}${url}`);
          assert.equal(res.status, 200, url);
          assert.equal(res.headers.get('content-type'), OCI_INDEX);
          assert.deepEqual(await res.json(), { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
        }
      });

      it('a malformed digest is 400', async () => {
        const res = await fetch(`${server.url}/v2/${name}/referrers/sha256:abc`);
        await expectError(res, 400, 'DIGEST_INVALID');
      });

      it('a deleted referrer leaves the list', async () => {
        const extra = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.temp', config: descriptor(OCI_EMPTY, emptyConfig), layers: [descriptor(OCI_LAYER, emptyConfig)], subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.bytes.length } }));
        const digest = digestOf(extra);
        assert.equal((await putManifest(server.url, name, digest, extra)).status, 201);
        assert.ok(byDigest((await referrers()).index).has(digest));
        assert.equal((await fetch(`${server.url}/v2/${name}/manifests/${digest}`, { method: 'DELETE' })).status, 202);
        assert.ok(!byDigest((await referrers()).index).has(digest));
      });
    });
  });
}
