import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { apiJson, basic } from '../support/iam.js';
import { makeLayer, MEDIA, OciLayout, type Descriptor } from '../support/oci-layout.js';
import { describeRun, runCommand } from '../support/process.js';
import { assertAccessible, chromiumMissing, consoleNav, ConsolePages, imageRow, launchChromium, signIn as signInConsole } from '../support/browser.js';
import { recordStorageSnapshots } from '../../src/ops/storage-snapshots.js';

/**
 * The web console in Debian's chromium, as a new user meets it: sign in, find an image and its two
 * tags, read and act on its Vulnerability Advisor report, delete and restore, create an API key; a
 * Reader is offered no changes. Every page is checked with axe-core. The server runs on SQLite only:
 * the console reads the same API the integration suites check on both engines.
 */

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const skopeoMissing = await runCommand('skopeo', ['--version']).then((r) => (r.code === 0 ? false : 'skopeo does not run'), () => 'skopeo is not installed (Debian package "skopeo")');
const skip = chromiumMissing || skopeoMissing;

const READER_PASSWORD = 'reader-password-0123';

/** An image whose one layer holds minimist 1.2.0 (two real npm advisories in test/fixtures/osv), tagged v1 in an OCI layout. */
function vulnerableImage(layout: OciLayout, tag: string, label: string): Descriptor {
  const layer = makeLayer({
    'app/node_modules/minimist/package.json': readFileSync(path.join(fixtures, 'scanner', 'minimist-1.2.0.package.json')),
    [`etc/${label}.txt`]: `${label}\n`,
  });
  layout.writeBlob(MEDIA.layerGzip, layer.gzip);
  const created = new Date().toISOString();
  const config = layout.writeJson(MEDIA.config, {
    created, architecture: 'amd64', os: 'linux',
    config: { Entrypoint: ['node', '/app/index.js'], Env: ['NODE_ENV=production'], User: '1000', Labels: { 'org.opencontainers.image.title': label } },
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [{ created, created_by: `COPY app /app # ${label}` }],
  });
  const manifest = layout.writeJson(MEDIA.manifest, { schemaVersion: 2, mediaType: MEDIA.manifest, config, layers: [layer.descriptor] });
  layout.tag(manifest, tag);
  return manifest;
}

describe('web console in chromium', { skip }, () => {
  let server: TestServer;
  let browser: Browser;
  let work: string;
  let appDigest: string;
  const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });
  const pages = new ConsolePages(() => browser);
  const newPage = (options?: Parameters<ConsolePages['open']>[0]) => pages.open(options);
  const signIn = (page: Page, username: string, password: string) => signInConsole(page, server.url, username, password);

  before(async () => {
    server = await startTestServer('sqlite', { auth: { enabled: true }, scanner: { pollInterval: '50ms' } });
    await server.vulndb.import(path.join(fixtures, 'osv'));
    await apiJson(server.url, 'POST', '/namespaces', admin, { name: 'team' });
    const reader = await apiJson<{ id: number }>(server.url, 'POST', '/iam/users', admin, { username: 'reader', password: READER_PASSWORD });
    await apiJson(server.url, 'POST', '/iam/policies', admin, { subject: `user:${reader.id}`, role: 'Reader', namespace: 'team' });
    // A user of the account with no policy yet: sees no image at all.
    await apiJson(server.url, 'POST', '/iam/users', admin, { username: 'newcomer', password: READER_PASSWORD });

    // Real pushes: skopeo copies the layout's images in, one of them under two tags.
    work = mkdtempSync(path.join(os.tmpdir(), 'wharf-console-'));
    const layout = new OciLayout(path.join(work, 'layout'));
    appDigest = vulnerableImage(layout, 'app', 'app').digest;
    vulnerableImage(layout, 'tool', 'tool');
    const host = new URL(server.url).host;
    for (const [from, to] of [['app', 'team/app:v1'], ['app', 'team/app:latest'], ['tool', 'team/tool:1.0']] as const) {
      const args = ['copy', '--preserve-digests', '--dest-tls-verify=false', '--dest-creds', `admin:${TEST_ADMIN_PASSWORD}`, `oci:${layout.dir}:${from}`, `docker://${host}/${to}`];
      const result = await runCommand('skopeo', args, { timeoutMs: 120_000 });
      assert.equal(result.code, 0, describeRun('skopeo', args, result));
    }
    await server.jobs.drain();
    // Today's storage snapshot (the maintenance task takes one every 10 minutes).
    await recordStorageSnapshots(server.metadata.db, Date.now());
    browser = await launchChromium();
  });

  after(async () => {
    await pages.close();
    await browser?.close().catch(() => {});
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });





  it('serves the console at / and its routes, and keeps /v2/ and /api/v1 answers of their own', async () => {
    const index = await fetch(`${server.url}/images/team/app`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    const asset = /\/assets\/[^"]+\.js/.exec(await index.text())?.[0];
    assert.ok(asset, 'the page loads a hashed bundle');
    const js = await fetch(`${server.url}${asset}`);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    assert.equal((await fetch(`${server.url}/assets/gone-0000.js`)).status, 404, 'a stale asset is a 404, not the page');
    const v2 = await fetch(`${server.url}/v2/team/nothing/here`);
    assert.equal(v2.status, 404);
    assert.match(await v2.text(), /"errors"/);
    const api = await fetch(`${server.url}/api/v1/nothing`);
    assert.equal(api.status, 404);
    assert.match(api.headers.get('content-type') ?? '', /problem\+json/);
  });

  it('refuses a wrong password with the API\'s message, then signs in and shows one row for an image with two tags', async () => {
    const page = await newPage();
    await page.goto(server.url);
    await assertAccessible(page, 'sign-in');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /password|credentials|invalid/i);

    await page.getByLabel('Password', { exact: true }).fill(TEST_ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    // The pictures: two images pushed today, two advisories in each.
    await page.getByRole('img', { name: /^Pushes and pulls per day .*: Pushes 2, Pulls 0$/ }).waitFor();
    assert.equal(await page.locator('.stat', { hasText: 'open vulnerabilities' }).innerText(), '4\nopen vulnerabilities');
    await page.getByRole('img', { name: /^Storage per namespace: team / }).waitFor();
    await page.getByRole('img', { name: /^Storage per namespace over time \(daily snapshots\), latest: team \d/ }).waitFor();
    await assertAccessible(page, 'overview');

    await consoleNav(page, 'Images').click();
    const row = imageRow(page, 'team/app');
    await row.waitFor();
    assert.equal(await row.count(), 1, 'one digest with two tags is one row');
    assert.deepEqual((await row.locator('.tag').allInnerTexts()).sort(), ['latest', 'v1']);
    assert.match(await row.innerText(), /2 Issues/);
    await assertAccessible(page, 'images');

    await page.getByLabel('Search images').fill('tool');
    await imageRow(page, 'team/app').waitFor({ state: 'detached' });
    assert.equal(await imageRow(page, 'team/tool').count(), 1);
    await page.getByLabel('Search images').fill('');
    await imageRow(page, 'team/app').waitFor();
    await page.getByRole('button', { name: 'Image' }).click();
    assert.equal(await page.getByRole('columnheader', { name: 'Image' }).getAttribute('aria-sort'), 'descending');
    assert.deepEqual(await page.locator('.image-name').allInnerTexts(), ['team/tool', 'team/app'], 'sorted by name, descending');
  });

  it('opens the image: pull commands by tag and digest, layers, config, history', async () => {
    const page = await newPage();
    await signIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await consoleNav(page, 'Images').click();
    await imageRow(page, 'team/app').getByRole('link', { name: 'team/app', exact: true }).click();
    await page.getByRole('heading', { name: 'team/app' }).waitFor();
    const host = new URL(server.url).host;
    // The heading shows before the image's details arrive: wait for the three pull commands.
    await page.locator('.pulls code').nth(2).waitFor();
    const pulls = await page.locator('.pulls code').allInnerTexts();
    assert.deepEqual(pulls.sort(), [`docker pull ${host}/team/app:latest`, `docker pull ${host}/team/app:v1`, `docker pull ${host}/team/app@${appDigest}`].sort());
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const byDigest = `docker pull ${host}/team/app@${appDigest}`;
    await page.getByRole('button', { name: `Copy ${byDigest}` }).click();
    await page.getByRole('button', { name: `Copied ${byDigest}` }).waitFor();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), byDigest);
    await assertAccessible(page, 'image-overview');
    await page.getByRole('link', { name: 'Config' }).click();
    await page.getByText('NODE_ENV=production').waitFor();
    assert.match(await page.locator('.facts').innerText(), /\["node","\/app\/index.js"\]/);
    await assertAccessible(page, 'image-config');
    await page.getByRole('link', { name: 'History' }).click();
    await page.getByText('COPY app /app # app').waitFor();
    await page.getByRole('link', { name: 'Layers' }).click();
    await page.getByText(/^1 layer, /).waitFor();
  });

  it('shows the Vulnerability Advisor report, and an exempted CVE changes the status', async () => {
    const page = await newPage();
    await signIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await page.goto(`${server.url}/images/${encodeURIComponent(`team/app@${appDigest}`)}?tab=security`);
    const vuln = page.getByTestId('vulnerability').filter({ hasText: 'GHSA-xvch-5gv4-984h' });
    await vuln.waitFor();
    assert.match(await vuln.innerText(), /CVE-2021-44906/);
    assert.match(await vuln.innerText(), /minimist/);
    assert.match(await vuln.innerText(), /1\.2\.0/);
    assert.match(await vuln.innerText(), /1\.2\.6/);
    assert.equal(await vuln.getByRole('link', { name: 'GHSA-xvch-5gv4-984h' }).getAttribute('href'), 'https://osv.dev/vulnerability/GHSA-xvch-5gv4-984h');
    assert.match(await page.locator('.report-status').innerText(), /2 Issues/);
    await assertAccessible(page, 'security');

    await page.getByLabel('Fixable only').check();
    await page.getByLabel('Package').fill('nothing-like-this');
    await page.getByText('No vulnerability matches the filters.').waitFor();
    await page.getByLabel('Package').fill('');

    await vuln.getByRole('button', { name: 'Exempt…' }).click();
    await vuln.getByLabel('Reason').fill('only parses trusted arguments');
    await vuln.getByLabel('Expires (optional)').fill('2099-12-31');
    await vuln.getByRole('button', { name: 'Exempt', exact: true }).click();
    await vuln.getByText('only parses trusted arguments').waitFor();
    assert.match(await vuln.innerText(), /Exempt/);
    assert.match(await vuln.innerText(), /until 2099-12-31/, 'the exemption shows when it ends');
    await page.locator('.report-status').getByText('1 Issue', { exact: true }).waitFor();
    await assertAccessible(page, 'security-exempted');

    // The list says so too.
    await consoleNav(page, 'Images').click();
    await imageRow(page, 'team/app').getByText('1 Issue', { exact: true }).waitFor();
    // The open one left is CVE-2020-7598, CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:L (5.6).
    assert.equal((await imageRow(page, 'team/app').getByTestId('highest-severity').innerText()).trim(), 'highest MEDIUM');
  });

  it('deletes an image to the trash and restores it with its tag', async () => {
    const page = await newPage();
    await signIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await consoleNav(page, 'Images').click();
    const row = imageRow(page, 'team/tool');
    await row.getByRole('button', { name: /^Delete team\/tool@/ }).click();
    await row.waitFor({ state: 'detached' });

    await consoleNav(page, 'Trash').click();
    const trashed = page.getByTestId('trash-row').filter({ hasText: 'team/tool' });
    await trashed.waitFor();
    assert.match(await trashed.innerText(), /1\.0/);
    await assertAccessible(page, 'trash');
    await trashed.getByRole('button', { name: /^Restore team\/tool@/ }).click();
    await trashed.waitFor({ state: 'detached' });

    await consoleNav(page, 'Images').click();
    await imageRow(page, 'team/tool').getByText('1.0', { exact: true }).waitFor();
  });

  it('creates an API key, shows it once, and the key signs in', async () => {
    const page = await newPage();
    await signIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await consoleNav(page, 'API keys').click();
    await page.getByLabel('Description').fill('console test');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const shown = page.getByTestId('new-api-key');
    await shown.waitFor();
    const key = (await page.locator('#new-key').innerText()).trim();
    assert.ok(key.length > 20, 'the key is shown');
    await page.getByTestId('api-key-row').filter({ hasText: 'console test' }).waitFor();
    await assertAccessible(page, 'api-keys');
    await page.getByRole('button', { name: 'Done' }).click();
    await shown.waitFor({ state: 'detached' });
    assert.equal(await page.getByText(key).count(), 0, 'and not again');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    await page.getByLabel('Use an API key').check();
    await page.getByLabel('API key', { exact: true }).fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
  });

  it('every other page passes axe in light and dark, and at phone width', async () => {
    const page = await newPage();
    await signIn(page, 'admin', TEST_ADMIN_PASSWORD);
    for (const [link, name] of [['Namespaces', 'namespaces'], ['Quota & retention', 'quota'], ['Access (IAM)', 'iam']] as const) {
      await consoleNav(page, link).click();
      await page.getByRole('heading', { level: 1, name: link }).waitFor();
      await assertAccessible(page, name);
    }
    // Retention with a dry run: keeping no image would move both of team's images to the trash.
    await consoleNav(page, 'Quota & retention').click();
    await page.getByLabel('Keep newest').fill('0');
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.getByText('The policy would move 2 images to the trash at its first run.').waitFor();

    await consoleNav(page, 'Namespaces').click();
    const ns = page.getByTestId('namespace-row').filter({ hasText: 'team' });
    await ns.waitFor();
    assert.equal(await ns.locator('td[data-label="Images"]').innerText(), '2', 'two images in team');
    // Removing a namespace that still has images: the API's refusal is shown, not swallowed.
    await ns.getByRole('button', { name: 'Remove namespace team' }).click();
    await page.getByRole('alert').waitFor();

    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    assert.equal(await page.evaluate('document.documentElement.dataset.theme'), 'dark');
    await consoleNav(page, 'Images').click();
    await imageRow(page, 'team/app').waitFor();
    await assertAccessible(page, 'images-dark');
    await consoleNav(page, 'Overview').click();
    await page.getByRole('img', { name: /^Pushes and pulls per day/ }).waitFor();
    await assertAccessible(page, 'overview-dark');
    await page.goto(`${server.url}/images/${encodeURIComponent(`team/app@${appDigest}`)}?tab=security`);
    await page.getByTestId('vulnerability').first().waitFor();
    await assertAccessible(page, 'security-dark');

    const phone = await newPage({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    await phone.goto(server.url);
    assert.equal(await phone.evaluate('document.documentElement.dataset.theme'), 'dark', 'follows prefers-color-scheme');
    await phone.getByLabel('Username').fill('admin');
    await phone.getByLabel('Password', { exact: true }).fill(TEST_ADMIN_PASSWORD);
    await phone.getByRole('button', { name: 'Sign in' }).click();
    await phone.getByRole('button', { name: 'Menu' }).click();
    await consoleNav(phone, 'Images').click();
    await imageRow(phone, 'team/app').waitFor();
    assert.ok(await phone.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1'), 'no sideways scrolling at phone width');
    await assertAccessible(phone, 'images-phone');
  });

  it('a Manager adds a user and gives it Writer on a namespace; that user is offered deletes there and no IAM', async () => {
    const page = await newPage();
    await signIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await consoleNav(page, 'Access (IAM)').click();
    const users = page.getByRole('region', { name: 'Users' });
    await users.getByLabel('Username').fill('dev');
    await users.getByLabel('Password', { exact: true }).fill('dev-password-0123');
    await users.getByRole('button', { name: 'Add user' }).click();
    await users.getByTestId('iam-Users').filter({ hasText: 'dev' }).waitFor();
    const policies = page.getByRole('region', { name: 'Policies' });
    await policies.getByLabel('Subject').selectOption({ label: 'user dev' });
    await policies.getByLabel('Role').selectOption('Writer');
    await policies.getByLabel('Namespace').fill('team');
    await policies.getByRole('button', { name: 'Add policy' }).click();
    await policies.getByTestId('iam-Policies').filter({ hasText: 'user dev' }).filter({ hasText: 'namespace team' }).waitFor();
    // The API's refusal is shown: no such namespace in the account.
    await policies.getByLabel('Subject').selectOption({ label: 'user dev' });
    await policies.getByLabel('Namespace').fill('nowhere');
    await policies.getByRole('button', { name: 'Add policy' }).click();
    await policies.getByRole('alert').waitFor();
    await assertAccessible(page, 'iam-edited');

    const dev = await newPage();
    await signIn(dev, 'dev', 'dev-password-0123');
    await consoleNav(dev, 'Images').click();
    await imageRow(dev, 'team/app').getByRole('button', { name: /^Delete team\/app@/ }).waitFor();
    assert.equal(await consoleNav(dev, 'Access (IAM)').count(), 0);
  });

  it('a Manager puts a user in a group and takes it out, and resets its password; the user changes its own and is signed out', async () => {
    const page = await newPage();
    await signIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await consoleNav(page, 'Access (IAM)').click();
    const users = page.getByRole('region', { name: 'Users' });
    await users.getByLabel('Username').fill('ops');
    await users.getByLabel('Password', { exact: true }).fill('ops-password-0123');
    await users.getByRole('button', { name: 'Add user' }).click();
    await users.getByTestId('iam-Users').filter({ hasText: 'ops' }).waitFor();

    const groups = page.getByRole('region', { name: 'Access groups' });
    await groups.getByLabel('Group name').fill('oncall');
    await groups.getByRole('button', { name: 'Add group' }).click();
    await groups.getByTestId('iam-Access groups').filter({ hasText: 'oncall' }).waitFor();
    const membership = groups.getByRole('form', { name: 'Add a member to a group' });
    await membership.getByLabel('Group').selectOption({ label: 'oncall' });
    await membership.getByLabel('Member').selectOption({ label: 'user ops' });
    await membership.getByRole('button', { name: 'Add member' }).click();
    const takeOut = groups.getByRole('button', { name: 'Take user ops out of group oncall' });
    await takeOut.waitFor();
    await assertAccessible(page, 'iam-group-members');
    await takeOut.click();
    await takeOut.waitFor({ state: 'detached' });

    const reset = users.getByRole('form', { name: 'Set a user\'s password' });
    await reset.getByLabel('User').selectOption({ label: 'ops' });
    await reset.getByLabel('New password').fill('ops-reset-password-0456');
    await reset.getByRole('button', { name: 'Set password' }).click();
    await reset.getByRole('status').filter({ hasText: 'The password of ops is set' }).waitFor();

    const ops = await newPage();
    await signIn(ops, 'ops', 'ops-reset-password-0456');
    await consoleNav(ops, 'API keys').click();
    const own = ops.getByRole('region', { name: 'Your password' });
    await own.getByLabel('Current password').fill('ops-reset-password-0456');
    await own.getByLabel('New password', { exact: true }).fill('ops-own-password-0789');
    await own.getByLabel('New password again').fill('ops-own-password-0780');
    await own.getByRole('button', { name: 'Change password' }).click();
    await own.getByRole('alert').filter({ hasText: 'differ' }).waitFor();
    await own.getByLabel('New password again').fill('ops-own-password-0789');
    await own.getByRole('button', { name: 'Change password' }).click();
    await ops.getByText('Your password was changed: sign in with the new one.').waitFor();
    await signIn(ops, 'ops', 'ops-own-password-0789');
  });

  it('works from the keyboard: sign in, skip to the content, follow links, sort, with a visible focus', async () => {
    const page = await newPage();
    await page.goto(server.url);
    await page.getByLabel('Username').focus();
    await page.keyboard.type('admin');
    await page.keyboard.press('Tab');
    await page.keyboard.type(TEST_ADMIN_PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.textContent'), 'Skip to content', 'the first stop is the skip link');
    await consoleNav(page, 'Images').focus();
    assert.notEqual(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle'), 'none', 'focus is visible');
    await page.keyboard.press('Enter');
    await imageRow(page, 'team/app').waitFor();
    await page.getByRole('button', { name: 'Size' }).focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.getByRole('columnheader', { name: 'Size' }).getAttribute('aria-sort'), 'descending');
  });

  it('tells a newcomer with no images how to push one', async () => {
    const page = await newPage();
    await signIn(page, 'newcomer', READER_PASSWORD);
    await consoleNav(page, 'Images').click();
    await page.getByRole('heading', { name: 'No images yet' }).waitFor();
    const howTo = await page.locator('.empty pre').innerText();
    assert.match(howTo, new RegExp(`skopeo copy docker://docker.io/library/alpine:latest docker://${new URL(server.url).host}/<namespace>/alpine:latest`));
    assert.match(howTo, /docker push /);
    await assertAccessible(page, 'images-empty');
    await consoleNav(page, 'Namespaces').click();
    await page.getByText('Ask an account Manager to add one.').waitFor();
  });

  it('offers a Reader no changes', async () => {
    const page = await newPage();
    await signIn(page, 'reader', READER_PASSWORD);
    await consoleNav(page, 'Images').click();
    await imageRow(page, 'team/app').waitFor();
    assert.equal(await page.getByRole('button', { name: /^Delete/ }).count(), 0, 'no delete buttons');
    await page.goto(`${server.url}/images/${encodeURIComponent(`team/app@${appDigest}`)}?tab=security`);
    await page.getByTestId('vulnerability').first().waitFor();
    assert.equal(await page.getByRole('button', { name: /Exempt|Remove exemption/ }).count(), 0, 'no exemptions');
    await consoleNav(page, 'Namespaces').click();
    await page.getByTestId('namespace-row').first().waitFor();
    assert.equal(await page.getByRole('button').filter({ hasText: /Add|Remove/ }).count(), 0, 'no namespace changes');
    assert.equal(await consoleNav(page, 'Access (IAM)').count(), 0, 'no IAM page');
    await consoleNav(page, 'Trash').click();
    await page.getByRole('heading', { name: 'Trash', exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Restore/ }).count(), 0);
    await assertAccessible(page, 'reader-trash');
  });

  const session = async (page: Page) => JSON.parse(String(await page.evaluate('sessionStorage.getItem("wharf.console.session")'))) as { token: string; refreshToken?: string };
  const setSession = (page: Page, change: Record<string, unknown>) => page.evaluate(`(() => {
    const key = 'wharf.console.session';
    sessionStorage.setItem(key, JSON.stringify({ ...JSON.parse(sessionStorage.getItem(key)), ...${JSON.stringify(change)} }));
  })()`);
  const REFUSED_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.bm90LXNpZ25lZA';

  it('renews a refused access token with the refresh token, and goes back to sign-in with a message when that ends too', async () => {
    const page = await newPage();
    await signIn(page, 'admin', TEST_ADMIN_PASSWORD);
    // The access token stops being accepted (as when it expires): the console renews it unseen.
    await setSession(page, { token: REFUSED_TOKEN });
    await consoleNav(page, 'Trash').click();
    await page.getByRole('heading', { name: 'Trash', exact: true }).waitFor();
    await page.locator('.loading').first().waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('alert').count(), 0);
    assert.notEqual((await session(page)).token, REFUSED_TOKEN, 'a new access token');

    // Both refused (the refresh token revoked or expired): back to sign-in, saying why.
    await setSession(page, { token: REFUSED_TOKEN, refreshToken: 'wrt_not_a_token' });
    await consoleNav(page, 'API keys').click();
    await page.getByText('Your session has expired: sign in again.').waitFor();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  it('signs out for good: the refresh token is revoked on the server', async () => {
    const page = await newPage();
    await signIn(page, 'admin', TEST_ADMIN_PASSWORD);
    const { refreshToken } = await session(page);
    assert.match(refreshToken ?? '', /^wrt_/);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    const refused = await fetch(`${server.url}/auth/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken! }) });
    assert.equal(refused.status, 401);
  });
});
