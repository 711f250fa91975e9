import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { apiJson, basic, imageManifest, OCI_MANIFEST, pushBlob, pushImage, send } from '../support/iam.js';
import { cosignPayload, cosignSign, sigstoreTestKey, type SigstoreTestKey } from '../support/signatures.js';
import { assertAccessible, chromiumMissing, consoleNav, ConsolePages, imageRow, launchChromium, signIn as signInConsole } from '../support/browser.js';

/**
 * Signatures and deployment enforcement in the web console (Debian's chromium): the image list's
 * Signed column and an image's Signatures & policy tab follow the trusted keys a Manager adds in the
 * console; the policy check says denied with the signedBy reason, then allowed once the image is
 * signed; a Reader sees keys and policies but no way to change them. axe-core checks the new pages.
 */

const READER_PASSWORD = 'reader-password-0123';

describe('web console: signatures, trusted keys and image policies in chromium', { skip: chromiumMissing }, () => {
  let server: TestServer;
  let browser: Browser;
  let host: string;
  let signedDigest: string;
  let plainDigest: string;
  const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });
  const ciKey: SigstoreTestKey = sigstoreTestKey('ecdsa-p256');
  const pages = new ConsolePages(() => browser);
  const newPage = (options?: Parameters<ConsolePages['open']>[0]) => pages.open(options);
  const signIn = (page: Page, username: string, password: string) => signInConsole(page, server.url, username, password);

  /** A cosign signature of `digest` under its sha256-<hex>.sig tag, as `cosign sign --key` stores it. */
  async function cosignSignImage(name: string, digest: string): Promise<void> {
    const payload = cosignPayload(digest, `${host}/${name}`);
    const signature = cosignSign(ciKey, payload);
    const layer = await pushBlob(server.url, name, payload, admin);
    const configBytes = Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: [layer] } }));
    const config = await pushBlob(server.url, name, configBytes, admin);
    const manifest = JSON.parse(imageManifest({ digest: config, size: configBytes.length }, { digest: layer, size: payload.length }).toString()) as { layers: Array<Record<string, unknown>> };
    manifest.layers[0] = { ...manifest.layers[0], mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', annotations: { 'dev.cosignproject.cosign/signature': signature } };
    const res = await send(server.url, { method: 'PUT', path: `/v2/${name}/manifests/${digest.replace(':', '-')}.sig`, headers: { 'Content-Type': OCI_MANIFEST }, body: Buffer.from(JSON.stringify(manifest)) }, admin);
    assert.equal(res.status, 201, await res.text());
  }

  before(async () => {
    server = await startTestServer('sqlite', { auth: { enabled: true } });
    host = new URL(server.url).host;
    await apiJson(server.url, 'POST', '/namespaces', admin, { name: 'team' });
    const reader = await apiJson<{ id: number }>(server.url, 'POST', '/iam/users', admin, { username: 'reader', password: READER_PASSWORD });
    await apiJson(server.url, 'POST', '/iam/policies', admin, { subject: `user:${reader.id}`, role: 'Reader', namespace: 'team' });
    signedDigest = (await pushImage(server.url, 'team/signed', 'v1', admin)).digest;
    plainDigest = (await pushImage(server.url, 'team/plain', 'v1', admin)).digest;
    // Signed by the CI key before the account trusts it: a signature, not yet a verified one.
    await cosignSignImage('team/signed', signedDigest);
    await server.jobs.drain();
    browser = await launchChromium();
  });

  after(async () => {
    await pages.close();
    await browser?.close().catch(() => {});
    await server?.stop();
  });




  const signaturesTab = (name: string, digest: string) => `${server.url}/images/${encodeURIComponent(`${name}@${digest}`)}?tab=signatures`;

  it('shows a signed image as unverified, then verified by the key a Manager adds in the console; an unsigned one as none', async () => {
    const page = await newPage();
    await signIn(page, 'admin', TEST_ADMIN_PASSWORD);
    assert.equal(await page.getByText('soon', { exact: true }).count(), 0, 'no "soon" menu entry any more');
    await consoleNav(page, 'Images').click();
    await imageRow(page, 'team/signed').getByTestId('signed').getByText('Unverified (1)').waitFor();
    assert.equal(await imageRow(page, 'team/plain').getByTestId('signed').innerText(), 'None');

    await consoleNav(page, 'Trusted keys').click();
    await page.getByRole('heading', { name: 'No trusted keys yet' }).waitFor();
    await assertAccessible(page, 'trust-keys-empty');
    // The API's refusal is shown: a PEM that is no key.
    await page.getByLabel('Name').fill('ci-key');
    await page.getByLabel('Kind').selectOption('sigstore');
    await page.getByLabel('Public key').fill('-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n');
    await page.getByRole('button', { name: 'Add key' }).click();
    await page.getByRole('alert').waitFor();
    assert.ok((await page.getByRole('alert').innerText()).length > 10, 'a message, not a bare status');
    await page.getByLabel('Public key').fill(ciKey.publicPem);
    await page.getByLabel('Scope').selectOption('team');
    await page.getByRole('button', { name: 'Add key' }).click();
    const row = page.getByTestId('trust-key-row').filter({ hasText: 'ci-key' });
    await row.waitFor();
    assert.match(await row.innerText(), /sigstore/);
    assert.match(await row.innerText(), /namespace team/);
    await assertAccessible(page, 'trust-keys');

    await consoleNav(page, 'Images').click();
    await imageRow(page, 'team/signed').getByTestId('signed').getByText('Verified: ci-key').waitFor();
    assert.equal(await imageRow(page, 'team/plain').getByTestId('signed').innerText(), 'None');

    await imageRow(page, 'team/signed').getByTestId('signed').click();
    await page.getByRole('heading', { name: 'Signatures', exact: true }).waitFor();
    const signature = page.getByTestId('signature');
    await signature.getByText('Verified: ci-key').waitFor();
    assert.match(await signature.innerText(), /Sigstore \/ cosign/);
    assert.match(await signature.innerText(), /cosign tag/);
    assert.match(await page.getByTestId('signed-summary').innerText(), /Verified\s+by trusted key ci-key/);
    await assertAccessible(page, 'image-signatures');

    await page.goto(signaturesTab('team/plain', plainDigest));
    await page.getByTestId('signed-summary').getByText('Not signed').waitFor();
    assert.equal(await page.getByTestId('signature').count(), 0);
  });

  it('sets a policy in the console; the image\'s policy view says denied with the signedBy reason, then allowed once signed', async () => {
    const page = await newPage();
    await signIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await page.goto(signaturesTab('team/plain', plainDigest));
    const decision = page.getByTestId('policy-decision');
    await decision.getByText('Denied', { exact: true }).waitFor();
    assert.match(await decision.innerText(), /No image policy applies/);

    await consoleNav(page, 'Image policies').click();
    await page.getByRole('heading', { name: 'No image policies yet' }).waitFor();
    await assertAccessible(page, 'image-policies-empty');
    // The API's message for a rule it refuses, shown to the person.
    await page.getByLabel('Applies to').selectOption('namespace');
    await page.getByLabel('Namespace', { exact: true }).selectOption('team');
    await page.getByLabel('Signed by keys').fill('not a key name!');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /signedBy|key/i);
    await page.getByLabel('Signed by keys').fill('ci-key');
    await page.getByRole('button', { name: 'Save policy' }).click();
    const policy = page.getByTestId('image-policy').filter({ hasText: 'Namespace team' });
    await policy.waitFor();
    assert.match(await policy.innerText(), /Signed by\s+ci-key/);
    await assertAccessible(page, 'image-policies');

    await page.goto(signaturesTab('team/plain', plainDigest));
    await decision.getByText('Denied', { exact: true }).waitFor();
    assert.match(await decision.innerText(), /The policy of namespace team applies/);
    const failure = page.getByTestId('policy-failure');
    assert.match(await failure.innerText(), /^signedBy .*no signature verifies with key ci-key \(the image has no signature\)/);
    assert.match(await page.getByTestId('policy-message').innerText(), /is denied by the policy of namespace team: \[signedBy\]/, 'the webhook\'s own words');
    await assertAccessible(page, 'image-policy-denied');

    await cosignSignImage('team/plain', plainDigest);
    await page.getByRole('button', { name: 'Check again' }).click();
    await decision.getByText('Allowed', { exact: true }).waitFor();
    assert.match(await decision.innerText(), /allowed by namespace team/);
    assert.equal(await page.getByTestId('policy-failure').count(), 0);
    await page.getByTestId('signed-summary').waitFor();
    await page.reload();
    await page.getByTestId('signed-summary').getByText('Verified').waitFor();
  });

  it('edits a policy\'s rules in place and shows the new ones', async () => {
    const page = await newPage();
    await signIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await consoleNav(page, 'Image policies').click();
    await page.getByRole('button', { name: 'Edit policy of namespace team' }).click();
    assert.equal(await page.getByLabel('Signed by keys').inputValue(), 'ci-key', 'the form starts from the policy');
    await page.getByLabel('Highest open severity').selectOption('high');
    await page.getByLabel('Scan at most (days)').fill('7');
    await page.getByLabel('Require images named by digest').check();
    await page.getByRole('button', { name: 'Save policy' }).click();
    const policy = page.getByTestId('image-policy').filter({ hasText: 'Namespace team' });
    await policy.getByText('at most high, scanned in the last 7 days').waitFor();
    assert.match(await policy.innerText(), /Require digest\s+yes/);
    const stored = await apiJson<{ policy: Record<string, unknown> }>(server.url, 'GET', '/policies/images/namespaces/team', admin);
    assert.deepEqual(stored.policy, { signedBy: ['ci-key'], vulnerabilities: { maxSeverity: 'HIGH', maxScanAgeDays: 7 }, requireDigest: true });
    // Back to signedBy only, as the other tests expect.
    await apiJson(server.url, 'PUT', '/policies/images/namespaces/team', admin, { signedBy: ['ci-key'] });
  });

  it('shows a Reader the keys and policies, with no controls to change them; the new pages pass axe in dark too', async () => {
    const page = await newPage({ colorScheme: 'dark' });
    await signIn(page, 'reader', READER_PASSWORD);
    await consoleNav(page, 'Trusted keys').click();
    await page.getByTestId('trust-key-row').filter({ hasText: 'ci-key' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /Add key|Remove/ }).count(), 0, 'no key changes');
    assert.equal(await page.getByLabel('Public key').count(), 0, 'no key form');
    await assertAccessible(page, 'reader-trust-keys-dark');

    await consoleNav(page, 'Image policies').click();
    await page.getByTestId('image-policy').filter({ hasText: 'Namespace team' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /Edit|Remove|Save policy/ }).count(), 0, 'no policy changes');
    await assertAccessible(page, 'reader-image-policies-dark');

    await page.goto(signaturesTab('team/signed', signedDigest));
    await page.getByTestId('policy-decision').getByText('Allowed', { exact: true }).waitFor();
    await page.getByTestId('signature').getByText('Verified: ci-key').waitFor();
    await assertAccessible(page, 'reader-image-signatures-dark');

    await consoleNav(page, 'Images').click();
    await imageRow(page, 'team/signed').getByTestId('signed').getByText('Verified: ci-key').waitFor();
    await assertAccessible(page, 'reader-images-signed-dark');
  });

  it('a Manager removes a key in the console, and the image is unverified again', async () => {
    const page = await newPage({ colorScheme: 'dark' });
    await signIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await consoleNav(page, 'Trusted keys').click();
    await page.getByRole('button', { name: 'Remove key ci-key' }).click();
    await page.getByRole('heading', { name: 'No trusted keys yet' }).waitFor();
    await assertAccessible(page, 'trust-keys-dark');
    await consoleNav(page, 'Images').click();
    await imageRow(page, 'team/signed').getByTestId('signed').getByText('Unverified (1)').waitFor();
    await page.goto(signaturesTab('team/signed', signedDigest));
    await page.getByTestId('policy-decision').getByText('Denied', { exact: true }).waitFor();
    await page.getByTestId('signature').getByText('Not verified').waitFor();
    await assertAccessible(page, 'image-signatures-dark');
  });

  it('fits a phone: the signatures tab and the policy and key pages without sideways scrolling, passing axe', async () => {
    const page = await newPage({ viewport: { width: 390, height: 844 } });
    await signIn(page, 'admin', TEST_ADMIN_PASSWORD);
    const noSidewaysScroll = async (what: string) => assert.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1'), `${what}: no sideways scrolling at phone width`);
    await page.goto(signaturesTab('team/signed', signedDigest));
    await page.getByTestId('signature').waitFor();
    await page.getByTestId('policy-decision').waitFor();
    await noSidewaysScroll('signatures');
    await assertAccessible(page, 'image-signatures-phone');
    for (const [path, name] of [['/policies', 'image-policies-phone'], ['/trust/keys', 'trust-keys-phone']] as const) {
      await page.goto(`${server.url}${path}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.locator('.loading').first().waitFor({ state: 'detached' });
      await noSidewaysScroll(name);
      await assertAccessible(page, name);
    }
  });
});
