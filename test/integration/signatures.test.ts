import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { api, apiJson, asClient, basic, pushBlob, pushImage, send, setUpTenants, PASSWORDS, OCI_MANIFEST, type PushedImage } from '../support/iam.js';
import { cosignPayload, cosignSign, dsseEnvelope, gpgSign, gpgTestKey, notationJws, notationTestChain, sigstoreTestKey, simpleSigningPayload, type GpgTestKey, type SigstoreTestKey } from '../support/signatures.js';
import { digestOf } from '../support/http.js';
import { readFileSync } from 'node:fs';
import { verifyImageSignatures, type SignatureVerdict } from '../../src/trust/verify-image.js';

const enc = encodeURIComponent;

interface Signatures { image: string; digest: string; verified: boolean; verifiedBy: string[]; signatures: SignatureVerdict[] }
interface ExtensionList { signatures: Array<{ schemaVersion: number; name: string; type: string; content: string }> }

function extensionBody(digest: string, content: Buffer, suffix = randomBytes(16).toString('hex')): Buffer {
  return Buffer.from(JSON.stringify({ schemaVersion: 2, name: `${digest}@${suffix}`, type: 'atomic', content: content.toString('base64') }));
}

for (const engine of engines()) {
  describe(`signatures [${engine}]`, () => {
    let server: TestServer;
    let admin: string;
    let writer: string;
    let reader: string;
    let manager: string;
    let bowner: string;
    let ci: GpgTestKey;
    let stranger: GpgTestKey;
    let cosign: SigstoreTestKey;

    /** Stores a simple signature of `image` through the signature API, as containers/image does. */
    async function putSimpleSignature(repository: string, digest: string, content: Buffer, auth = writer): Promise<Response> {
      return send(server.url, { method: 'PUT', path: `/extensions/v2/${repository}/signatures/${digest}`, headers: { 'Content-Type': 'application/json' }, body: extensionBody(digest, content) }, auth);
    }

    /** Pushes a cosign signature of `digest`: under its sha256-<hex>.sig tag, or as an OCI 1.1 referrer. */
    async function pushCosignSignature(repository: string, digest: string, payload: Buffer, signature: string, how: 'tag' | 'referrer', subjectSize = 0): Promise<string> {
      const payloadDigest = await pushBlob(server.url, repository, payload, writer);
      const layer = { mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: payloadDigest, size: payload.length, annotations: { 'dev.cosignproject.cosign/signature': signature } };
      let manifest: Record<string, unknown>;
      if (how === 'tag') {
        const config = Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: [payloadDigest] } }));
        const configDigest = await pushBlob(server.url, repository, config, writer);
        manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: [layer] };
      } else {
        const empty = Buffer.from('{}');
        const emptyDigest = await pushBlob(server.url, repository, empty, writer);
        manifest = {
          schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
          config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: 2 }, layers: [layer],
          subject: { mediaType: OCI_MANIFEST, digest, size: subjectSize },
        };
      }
      const body = Buffer.from(JSON.stringify(manifest));
      const reference = how === 'tag' ? `${digest.replace(':', '-')}.sig` : digestOf(body);
      const res = await send(server.url, { method: 'PUT', path: `/v2/${repository}/manifests/${reference}`, headers: { 'Content-Type': OCI_MANIFEST }, body }, writer);
      assert.equal(res.status, 201, await res.text());
      return digestOf(body);
    }

    async function pushReferrer(repository: string, subject: PushedImage, artifactType: string, layerMediaType: string, layerBytes: Buffer): Promise<string> {
      const layerDigest = await pushBlob(server.url, repository, layerBytes, writer);
      const emptyDigest = await pushBlob(server.url, repository, Buffer.from('{}'), writer);
      const body = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: 2 },
        layers: [{ mediaType: layerMediaType, digest: layerDigest, size: layerBytes.length }],
        subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.manifest.length },
      }));
      const res = await send(server.url, { method: 'PUT', path: `/v2/${repository}/manifests/${digestOf(body)}`, headers: { 'Content-Type': OCI_MANIFEST }, body }, writer);
      assert.equal(res.status, 201, await res.text());
      return digestOf(body);
    }

    const signaturesOf = (image: string, auth = reader) => apiJson<Signatures>(server.url, 'GET', `/images/${enc(image)}/signatures`, auth);

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true }, storage: { gcGracePeriod: 0 } });
      await setUpTenants(server);
      admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });
      writer = basic({ username: 'writer', password: PASSWORDS.writer });
      reader = basic({ username: 'reader', password: PASSWORDS.reader });
      manager = basic({ username: 'manager', password: PASSWORDS.manager });
      bowner = basic({ username: 'bowner', password: PASSWORDS.bowner });
      [ci, stranger] = await Promise.all([gpgTestKey('ci'), gpgTestKey('stranger')]);
      cosign = sigstoreTestKey('ecdsa-p256');
    });
    after(async () => { await server.stop(); });

    it('/v2/ announces the signature API to anonymous pings (401) and logged-in ones', async () => {
      const anonymous = await send(server.url, { method: 'GET', path: '/v2/' });
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers.get('x-registry-supports-signatures'), '1');
      const loggedIn = await send(server.url, { method: 'GET', path: '/v2/' }, reader);
      assert.equal(loggedIn.status, 200);
      assert.equal(loggedIn.headers.get('x-registry-supports-signatures'), '1');
    });

    it('signature API: a Writer adds (201), a Reader reads the list in containers/image\'s JSON, a Reader cannot add, another tenant sees nothing', async () => {
      const image = await pushImage(server.url, 'teama/signed', 'v1', writer);
      const path = `/extensions/v2/teama/signed/signatures/${image.digest}`;
      assert.deepEqual(await (await send(server.url, { method: 'GET', path }, reader)).json(), { signatures: [] });
      const content = await gpgSign(ci, simpleSigningPayload(image.digest, `${new URL(server.url).host}/teama/signed:v1`));
      const body = extensionBody(image.digest, content, 'f'.repeat(32));
      const put = await send(server.url, { method: 'PUT', path, headers: { 'Content-Type': 'application/json' }, body }, writer);
      assert.equal(put.status, 201, await put.text());
      const again = await send(server.url, { method: 'PUT', path, headers: { 'Content-Type': 'application/json' }, body }, writer);
      assert.equal(again.status, 409, 'a name is unique per image');
      const list = await (await send(server.url, { method: 'GET', path }, reader)).json() as ExtensionList;
      assert.deepEqual(list, { signatures: [{ schemaVersion: 2, name: `${image.digest}@${'f'.repeat(32)}`, type: 'atomic', content: content.toString('base64') }] });

      // The token flow of real clients: a pull,push token for PUT, a pull token for GET.
      const viaToken = await asClient(server.url, { username: 'writer', password: PASSWORDS.writer }, { method: 'PUT', path, headers: { 'Content-Type': 'application/json' }, body: extensionBody(image.digest, content) });
      assert.equal(viaToken.status, 201);
      const anonymous = await send(server.url, { method: 'GET', path });
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /scope="repository:teama\/signed:pull"/);

      const byReader = await putSimpleSignature('teama/signed', image.digest, content, reader);
      assert.equal(byReader.status, 403);
      assert.match(((await byReader.json()) as { errors: Array<{ message: string }> }).errors[0]!.message, /push access .* Writer role/);
      const otherTenant = await send(server.url, { method: 'GET', path }, bowner);
      const missing = await send(server.url, { method: 'GET', path: `/extensions/v2/teamb/signed/signatures/${image.digest}` }, bowner);
      assert.equal(otherTenant.status, 404);
      assert.equal(otherTenant.status, missing.status, 'another tenant\'s image answers like a missing one of its own');
      assert.deepEqual((await otherTenant.text()).replaceAll('teama/', 'teamb/'), await missing.text());
      assert.equal((await putSimpleSignature('teama/signed', image.digest, content, bowner)).status, 403);

      const unknown = await send(server.url, { method: 'GET', path: `/extensions/v2/teama/signed/signatures/sha256:${'0'.repeat(64)}` }, reader);
      assert.equal(unknown.status, 404);
      assert.equal(((await unknown.json()) as { errors: Array<{ code: string }> }).errors[0]!.code, 'MANIFEST_UNKNOWN');
      const bad = await send(server.url, { method: 'PUT', path, headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{"version":2}') }, writer);
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { errors: Array<{ message: string }> }).errors[0]!.message, /schemaVersion must be 2/);
    });

    it('trusted keys: Managers add and remove them (account or namespace), Readers list them, Writers cannot change them, tenants never see each other\'s', async () => {
      const refused = await api(server.url, 'POST', '/trust/keys', writer, { name: 'w-key', kind: 'gpg', publicKey: ci.publicKey });
      assert.equal(refused.status, 403);
      const added = await apiJson<{ name: string; fingerprint: string; identities: string[] }>(server.url, 'POST', '/trust/keys', manager, { name: 'ci-gpg', kind: 'gpg', publicKey: ci.publicKey });
      assert.equal(added.fingerprint, ci.fingerprint);
      assert.deepEqual(added.identities, ['ci <ci@example.com>']);
      await apiJson(server.url, 'POST', '/trust/keys', admin, { name: 'ci-cosign', kind: 'sigstore', publicKey: cosign.publicPem, namespace: 'teama' });
      const dup = await api(server.url, 'POST', '/trust/keys', manager, { name: 'ci-gpg', kind: 'gpg', publicKey: stranger.publicKey });
      assert.equal(dup.status, 409);
      const wrongKind = await api(server.url, 'POST', '/trust/keys', manager, { name: 'bad', kind: 'sigstore', publicKey: ci.publicKey });
      assert.equal(wrongKind.status, 400);
      assert.match(((await wrongKind.json()) as { detail: string }).detail, /PEM public key/);
      const listed = await apiJson<{ keys: Array<{ name: string; namespace: string | null; kind: string }> }>(server.url, 'GET', '/trust/keys', reader);
      assert.deepEqual(listed.keys.map((k) => [k.name, k.kind, k.namespace]), [['ci-cosign', 'sigstore', 'teama'], ['ci-gpg', 'gpg', null]]);
      const b = await apiJson<{ keys: unknown[] }>(server.url, 'GET', '/trust/keys', bowner);
      assert.deepEqual(b.keys, []);
      assert.equal((await api(server.url, 'DELETE', '/trust/keys/ci-gpg', bowner)).status, 404, 'another tenant cannot see or remove the key');
      assert.equal((await api(server.url, 'POST', '/trust/keys', bowner, { name: 'x', kind: 'gpg', publicKey: ci.publicKey, namespace: 'teama' })).status, 404);
      await apiJson(server.url, 'POST', '/trust/keys', manager, { name: 'temp', kind: 'gpg', publicKey: stranger.publicKey });
      assert.equal((await api(server.url, 'DELETE', '/trust/keys/temp', writer)).status, 403);
      assert.equal((await api(server.url, 'DELETE', '/trust/keys/temp', manager)).status, 204);
      assert.equal((await api(server.url, 'DELETE', '/trust/keys/temp', manager)).status, 404);
      const { events } = await apiJson<{ events: Array<{ action: string; resource: string }> }>(server.url, 'GET', '/audit', admin);
      assert.ok(events.some((e) => e.action === 'trust.key.add' && e.resource === 'trust key ci-gpg'));
    });

    it('inspect: each signature says whether it verifies and with which key; unknown key, other digest and tampering are reported as such', async () => {
      const image = await pushImage(server.url, 'teama/verify', 'v1', writer);
      const other = await pushImage(server.url, 'teama/verify', 'v2', writer);
      const ref = `${new URL(server.url).host}/teama/verify:v1`;
      assert.deepEqual((await signaturesOf('teama/verify:v1')).signatures, []);

      const good = await gpgSign(ci, simpleSigningPayload(image.digest, ref));
      assert.equal((await putSimpleSignature('teama/verify', image.digest, good)).status, 201);
      assert.equal((await putSimpleSignature('teama/verify', image.digest, await gpgSign(stranger, simpleSigningPayload(image.digest, ref)))).status, 201);
      assert.equal((await putSimpleSignature('teama/verify', image.digest, await gpgSign(ci, simpleSigningPayload(other.digest, ref)))).status, 201);
      const tampered = Buffer.from(good);
      const at = tampered.indexOf(Buffer.from(image.digest.slice(7, 20)));
      tampered[at] = tampered[at] === 0x61 ? 0x62 : 0x61;
      assert.equal((await putSimpleSignature('teama/verify', image.digest, tampered)).status, 201);

      const payload = cosignPayload(image.digest, ref);
      await pushCosignSignature('teama/verify', image.digest, payload, cosignSign(cosign, payload), 'tag');
      await pushCosignSignature('teama/verify', image.digest, payload, cosignSign(sigstoreTestKey(), payload), 'referrer', image.manifest.length);
      await pushReferrer('teama/verify', image, 'application/vnd.dev.cosign.artifact.sig.v1+json', 'application/vnd.dsse.envelope.v1+json', dsseEnvelope(cosign, image.digest, ref));
      const notary = notationTestChain('ci');
      await apiJson(server.url, 'POST', '/trust/keys', manager, { name: 'ci-notation', kind: 'x509', publicKey: notary.rootPem, namespace: 'teama' });
      await pushReferrer('teama/verify', image, 'application/vnd.cncf.notary.signature', 'application/jose+json', notationJws(notary, image.digest));
      await pushReferrer('teama/verify', image, 'application/vnd.cncf.notary.signature', 'application/jose+json', notationJws(notationTestChain('stranger'), image.digest));

      const result = await signaturesOf(`teama/verify:v1`);
      assert.equal(result.digest, image.digest);
      assert.equal(result.verified, true);
      assert.deepEqual(result.verifiedBy, ['ci-cosign', 'ci-gpg', 'ci-notation']);
      const brief = result.signatures.map((s) => [s.format, s.kind, s.source, s.verified, s.key, s.reason?.replace(/\(.*$/s, '').trim() ?? null]);
      assert.deepEqual(brief, [
        ['simple-signing', 'signature', 'signature-api', true, 'ci-gpg', null],
        ['simple-signing', 'signature', 'signature-api', false, null, `signed by an unknown key 0x${stranger.keyId}: no trusted gpg key of this account or namespace has it`],
        ['simple-signing', 'signature', 'signature-api', false, null, `signature is for ${other.digest} not this image`],
        ['simple-signing', 'signature', 'signature-api', false, null, 'tampered: the signature does not verify with key ci-gpg'],
        ['cosign', 'signature', 'tag', true, 'ci-cosign', null],
        ['cosign', 'signature', 'referrer', false, null, 'signed by an unknown key, or tampered: none of the trusted sigstore keys'],
        ['cosign', 'attestation', 'referrer', true, 'ci-cosign', null],
        ['notation', 'signature', 'referrer', true, 'ci-notation', null],
        ['notation', 'signature', 'referrer', false, null, 'signed by an unknown certificate chain'],
      ]);
      assert.match(result.signatures[0]!.signer ?? '', /^ci <ci@example.com>$/);

      // The cosign key is trusted in teama only: a Reader of another tenant sees nothing of the image.
      assert.equal((await api(server.url, 'GET', `/images/${enc('teama/verify:v1')}/signatures`, bowner)).status, 404);
    });

    it('a signature made by cosign (containers/image fixture) stored under its .sig tag verifies with cosign.pub', async () => {
      const fixtures = new URL('../fixtures/signatures/containers-image/', import.meta.url);
      const stored = readFileSync(new URL('dir-img-cosign-valid/signature-1', fixtures));
      const json = JSON.parse(stored.subarray(stored.indexOf('{')).toString('utf8')) as { payload: string; annotations: Record<string, string> };
      const subject = digestOf(readFileSync(new URL('dir-img-cosign-valid/manifest.json', fixtures)));
      // The signed image's layers are not published with it, so the signature is stored alone, as cosign's tag scheme allows.
      await pushCosignSignature('teama/published', subject, Buffer.from(json.payload, 'base64'), json.annotations['dev.cosignproject.cosign/signature']!, 'tag');
      await apiJson(server.url, 'POST', '/trust/keys', manager, { name: 'c-image-cosign', kind: 'sigstore', publicKey: readFileSync(new URL('cosign.pub', fixtures), 'utf8') });
      const accountA = (await server.metadata.db.selectFrom('namespaces').select('account_id').where('name', '=', 'teama').executeTakeFirstOrThrow()).account_id;
      const verdicts = await verifyImageSignatures(server.registry.ctx, Number(accountA), 'teama/published', subject);
      assert.deepEqual(verdicts.map((v) => [v.format, v.source, v.verified, v.key, v.identity]), [['cosign', 'tag', true, 'c-image-cosign', '192.168.64.2:5000/cosign-signed-single-sample']]);
      const forOther = await verifyImageSignatures(server.registry.ctx, Number(accountA), 'teama/published', `sha256:${'0'.repeat(64)}`);
      assert.deepEqual(forOther, [], 'the .sig tag of one digest says nothing about another');
    });

    it('the image list finds each kind of signature carrier: a stored signature, a .sig or .att tag, a referrer; and an image with none', async () => {
      const plain = await pushImage(server.url, 'teama/carriers', 'plain', writer);
      const stored = await pushImage(server.url, 'teama/carriers', 'stored', writer);
      const sigTagged = await pushImage(server.url, 'teama/carriers', 'sig-tagged', writer);
      const attTagged = await pushImage(server.url, 'teama/carriers', 'att-tagged', writer);
      const referred = await pushImage(server.url, 'teama/carriers-too', 'referred', writer);
      const ref = (tag: string) => `${new URL(server.url).host}/teama/carriers:${tag}`;
      const path = `/extensions/v2/teama/carriers/signatures/${stored.digest}`;
      const put = await send(server.url, { method: 'PUT', path, headers: { 'Content-Type': 'application/json' }, body: extensionBody(stored.digest, await gpgSign(ci, simpleSigningPayload(stored.digest, ref('stored'))), 'c'.repeat(32)) }, writer);
      assert.equal(put.status, 201, await put.text());
      const payload = cosignPayload(sigTagged.digest, ref('sig-tagged'));
      await pushCosignSignature('teama/carriers', sigTagged.digest, payload, cosignSign(cosign, payload), 'tag');
      const envelope = dsseEnvelope(cosign, attTagged.digest, ref('att-tagged'));
      const envelopeDigest = await pushBlob(server.url, 'teama/carriers', envelope, writer);
      const config = Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: [envelopeDigest] } }));
      const attestation = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await pushBlob(server.url, 'teama/carriers', config, writer), size: config.length },
        layers: [{ mediaType: 'application/vnd.dsse.envelope.v1+json', digest: envelopeDigest, size: envelope.length }],
      }));
      const attPut = await send(server.url, { method: 'PUT', path: `/v2/teama/carriers/manifests/${attTagged.digest.replace(':', '-')}.att`, headers: { 'Content-Type': OCI_MANIFEST }, body: attestation }, writer);
      assert.equal(attPut.status, 201, await attPut.text());
      const referredPayload = cosignPayload(referred.digest, `${new URL(server.url).host}/teama/carriers-too:referred`);
      await pushCosignSignature('teama/carriers-too', referred.digest, referredPayload, cosignSign(cosign, referredPayload), 'referrer', referred.manifest.length);
      const { images } = await apiJson<{ images: Array<{ repository: string; digest: string; signatures: number; verifiedBy: string[] }> }>(server.url, 'GET', '/images?namespace=teama', reader);
      const signedOf = (image: PushedImage) => images.find((i) => i.digest === image.digest)?.signatures;
      assert.equal(signedOf(plain), 0);
      assert.equal(signedOf(stored), 1, 'a signature stored through the signature API');
      assert.equal(signedOf(sigTagged), 1, 'a signature under the .sig tag');
      assert.equal(signedOf(attTagged), 1, 'an attestation under the .att tag');
      assert.equal(signedOf(referred), 1, 'a signature attached as a referrer, in another repository of the list');
      for (const image of [sigTagged, attTagged, referred]) assert.deepEqual(images.find((i) => i.digest === image.digest)?.verifiedBy, ['ci-cosign']);
    });

    it('signatures are not images: the image list shows them in the Signed column, and the scanner leaves them alone', async () => {
      const image = await pushImage(server.url, 'teama/listed', 'v1', writer);
      const ref = `${new URL(server.url).host}/teama/listed:v1`;
      const payload = cosignPayload(image.digest, ref);
      const sigManifest = await pushCosignSignature('teama/listed', image.digest, payload, cosignSign(cosign, payload), 'tag');
      const referrer = await pushCosignSignature('teama/listed', image.digest, payload, cosignSign(cosign, payload), 'referrer', image.manifest.length);
      const { images } = await apiJson<{ images: Array<{ digest: string; tag: string | null; signatures: number; verifiedBy: string[] }> }>(server.url, 'GET', '/images?repository=teama/listed', reader);
      assert.deepEqual(images.map((i) => [i.digest, i.tag, i.signatures, i.verifiedBy]), [[image.digest, 'v1', 2, ['ci-cosign']]]);
      for (const digest of [sigManifest, referrer]) {
        const scan = await server.metadata.db.selectFrom('scan_results').select('state').where('digest', '=', digest).executeTakeFirst();
        assert.equal(scan?.state, 'artifact', 'a signature is recorded as an artifact, not scanned');
        const jobs = await server.metadata.db.selectFrom('jobs').select('id').where('dedupe_key', '=', `scan:${digest}`).execute();
        assert.equal(jobs.length, 0, 'no scan job is queued for a signature');
      }
    });

    it('the Signed column follows keys and signatures at once, though it keeps verdicts between requests', async () => {
      const image = await pushImage(server.url, 'teama/follows', 'v1', writer);
      const payload = cosignPayload(image.digest, `${new URL(server.url).host}/teama/follows:v1`);
      await pushCosignSignature('teama/follows', image.digest, payload, cosignSign(cosign, payload), 'tag');
      const column = async () => {
        const { images } = await apiJson<{ images: Array<{ signatures: number; verifiedBy: string[] }> }>(server.url, 'GET', '/images?repository=teama/follows', reader);
        return [images[0]!.signatures, images[0]!.verifiedBy];
      };
      assert.deepEqual(await column(), [1, ['ci-cosign']]);
      assert.deepEqual(await column(), [1, ['ci-cosign']], 'the same from the kept verdict');
      assert.equal((await api(server.url, 'DELETE', '/trust/keys/ci-cosign', admin)).status, 204);
      assert.deepEqual(await column(), [1, []], 'a removed key verifies nothing from the next request on');
      await apiJson(server.url, 'POST', '/trust/keys', admin, { name: 'ci-cosign', kind: 'sigstore', publicKey: cosign.publicPem, namespace: 'teama' });
      assert.deepEqual(await column(), [1, ['ci-cosign']]);
      await pushCosignSignature('teama/follows', image.digest, payload, cosignSign(cosign, payload), 'referrer', image.manifest.length);
      assert.deepEqual(await column(), [2, ['ci-cosign']], 'a signature added since is counted');
    });

    it('signatures go to the trash with their image, come back with it, survive GC and retention, and go when it is removed for good', async () => {
      const repo = 'teama/lifecycle';
      const image = await pushImage(server.url, repo, 'v1', writer);
      const ref = `${new URL(server.url).host}/${repo}:v1`;
      const payload = cosignPayload(image.digest, ref);
      await putSimpleSignature(repo, image.digest, await gpgSign(ci, simpleSigningPayload(image.digest, ref)));
      const sigManifest = await pushCosignSignature(repo, image.digest, payload, cosignSign(cosign, payload), 'tag');
      const referrer = await pushCosignSignature(repo, image.digest, payload, cosignSign(cosign, payload), 'referrer', image.manifest.length);
      const verifiedBy = async () => (await signaturesOf(`${repo}@${image.digest}`)).verifiedBy;
      assert.deepEqual(await verifiedBy(), ['ci-cosign', 'ci-gpg']);

      // GC while the image lives keeps every signature and its payload.
      await server.gc.run();
      assert.deepEqual(await verifiedBy(), ['ci-cosign', 'ci-gpg']);
      assert.equal((await signaturesOf(`${repo}@${image.digest}`)).signatures.length, 3);

      // Retention counts images, not their signatures: keep 1 of 2 images removes the older one only.
      const newer = await pushImage(server.url, repo, 'v2', writer);
      const keepOne = await server.retention.run('teama', { keepImages: 1, removeUntagged: false }, true, 'test');
      const inRepo = keepOne.removed.filter((r) => r.name === repo).map((r) => r.digest);
      assert.deepEqual(inRepo, [image.digest], 'retention counts the images of the repository, not their signatures');
      const planned = await server.retention.run('teama', { keepImages: 100, removeUntagged: true }, true, 'test');
      assert.ok(!planned.removed.some((r) => [sigManifest, referrer].includes(r.digest)), 'an untagged-looking signature is not pruned on its own');

      assert.equal((await api(server.url, 'DELETE', `/images/${enc(`${repo}@${image.digest}`)}`, writer)).status, 204);
      const trash = await apiJson<{ items: Array<{ digest: string }> }>(server.url, 'GET', '/trash', writer);
      assert.deepEqual(trash.items.filter((i) => [image.digest, sigManifest, referrer].includes(i.digest)).map((i) => i.digest), [image.digest], 'the trash lists the image, not its signatures');
      assert.equal((await send(server.url, { method: 'GET', path: `/v2/${repo}/manifests/${image.digest.replace(':', '-')}.sig` }, reader)).status, 404);
      assert.equal((await send(server.url, { method: 'GET', path: `/extensions/v2/${repo}/signatures/${image.digest}` }, reader)).status, 404);
      await server.gc.run();

      const restored = await apiJson<{ tags: string[] }>(server.url, 'POST', '/trash/restore', writer, { image: `${repo}@${image.digest}` }, 200);
      assert.deepEqual(restored.tags, ['v1']);
      assert.deepEqual(await verifiedBy(), ['ci-cosign', 'ci-gpg'], 'every signature is back and verifies (its payloads survived GC in the trash)');
      assert.equal((await signaturesOf(`${repo}@${image.digest}`)).signatures.length, 3);
      const referrers = await (await send(server.url, { method: 'GET', path: `/v2/${repo}/referrers/${image.digest}` }, reader)).json() as { manifests: Array<{ digest: string }> };
      assert.deepEqual(referrers.manifests.map((m) => m.digest), [referrer]);

      // Removed for good: the signatures go with it.
      assert.equal((await api(server.url, 'DELETE', `/images/${enc(`${repo}@${image.digest}`)}`, writer)).status, 204);
      await apiJson(server.url, 'POST', '/trash/remove', writer, { image: `${repo}@${image.digest}` }, 200);
      const left = await server.metadata.db.selectFrom('image_signatures').select('id').where('manifest_digest', '=', image.digest).execute();
      assert.deepEqual(left, [], 'simple signatures are dropped');
      const trashLeft = await server.metadata.db.selectFrom('trash').select('digest').where('repository_name', '=', repo).execute();
      assert.deepEqual(trashLeft.map((r) => r.digest), [], 'attached signatures left the trash with the image');
      await server.gc.run();
      assert.equal((await send(server.url, { method: 'GET', path: `/v2/${repo}/manifests/${newer.digest}` }, reader)).status, 200);
    });

    it('simple signatures survive the removal of the whole namespace: a restore from the trash brings them back', async () => {
      await apiJson(server.url, 'POST', '/namespaces', admin, { name: 'signed-gone' });
      const repo = 'signed-gone/app';
      const image = await pushImage(server.url, repo, 'v1', admin);
      const earlier = await pushImage(server.url, repo, 'v0', admin);
      const ref = `${new URL(server.url).host}/${repo}`;
      for (const signed of [image, earlier]) {
        assert.equal((await putSimpleSignature(repo, signed.digest, await gpgSign(ci, simpleSigningPayload(signed.digest, `${ref}:v1`)), admin)).status, 201);
      }
      const stored = async (digest: string) => ((await (await send(server.url, { method: 'GET', path: `/extensions/v2/${repo}/signatures/${digest}` }, admin)).json()) as ExtensionList).signatures;
      const before = await stored(image.digest);
      assert.equal(before.length, 1);
      // One image was in the trash already when the namespace went: its signature waits too.
      assert.equal((await api(server.url, 'DELETE', `/images/${enc(`${repo}@${earlier.digest}`)}`, admin)).status, 204);

      assert.equal((await api(server.url, 'DELETE', '/namespaces/signed-gone?force=true', admin)).status, 204);
      const waiting = await server.metadata.db.selectFrom('trash_signatures as s').innerJoin('trash as t', 't.id', 's.trash_id').select('t.digest').where('t.repository_name', '=', repo).execute();
      assert.deepEqual(waiting.map((w) => w.digest).sort(), [image.digest, earlier.digest].sort(), 'both signatures wait with their trashed images');

      await apiJson(server.url, 'POST', '/trash/restore', admin, { image: `${repo}@${image.digest}` }, 200);
      assert.deepEqual(await stored(image.digest), before, 'the signature API serves the same signature again');
      assert.deepEqual((await signaturesOf(`${repo}@${image.digest}`, admin)).verifiedBy, ['ci-gpg'], 'and it verifies');
      await apiJson(server.url, 'POST', '/trash/restore', admin, { image: `${repo}@${earlier.digest}` }, 200);
      assert.equal((await stored(earlier.digest)).length, 1, 'the image trashed before the namespace went gets its signature back too');
      const left = await server.metadata.db.selectFrom('trash_signatures as s').innerJoin('trash as t', 't.id', 's.trash_id').select('t.digest').where('t.repository_name', '=', repo).execute();
      assert.deepEqual(left, [], 'nothing stays behind in the trash');

      // Removed with its namespace and then for good: the waiting signature goes with the trash row.
      assert.equal((await api(server.url, 'DELETE', '/namespaces/signed-gone?force=true', admin)).status, 204);
      await apiJson(server.url, 'POST', '/trash/remove', admin, { image: `${repo}@${image.digest}` }, 200);
      await apiJson(server.url, 'POST', '/trash/remove', admin, { image: `${repo}@${earlier.digest}` }, 200);
      assert.deepEqual(await server.metadata.db.selectFrom('trash_signatures').select('trash_id').execute(), [], 'no signature outlives its image');
    });
  });
}
