import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import yazl from 'yazl';
import { readZipJson, ZipReadError } from '../../../src/scanner/feed/zip-entries.js';
import { exportLocation, withoutCredentials } from '../../../src/scanner/feed/download.js';
import { exportFolder } from '../../../src/scanner/feed/sync.js';
import { loadConfig } from '../../../src/config/load.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-zip-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function zipFile(name: string, entries: Array<[string, string]>, compress = true): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const [entry, text] of entries) zip.addBuffer(Buffer.from(text), entry, { compress });
  zip.end();
  const file = path.join(dir, name);
  writeFileSync(file, await buffer(zip.outputStream));
  return file;
}

describe('OSV export folders and locations', () => {
  it('exports are per main ecosystem: the release after the colon is not a folder of its own', () => {
    assert.equal(exportFolder('Debian:12'), 'Debian');
    assert.equal(exportFolder('Alpine:v3.19'), 'Alpine');
    assert.equal(exportFolder('Ubuntu:22.04:LTS'), 'Ubuntu');
    assert.equal(exportFolder('Red Hat:enterprise_linux:9::appstream'), 'Red Hat');
    assert.equal(exportFolder('npm'), 'npm');
    assert.equal(exportFolder('PyPI'), 'PyPI');
  });

  it('places all.zip under the base: URL (encoded), directory path or file:// URL', () => {
    assert.equal(exportLocation('https://osv-vulnerabilities.storage.googleapis.com', 'Red Hat'), 'https://osv-vulnerabilities.storage.googleapis.com/Red%20Hat/all.zip');
    assert.equal(exportLocation('http://mirror:8080/osv/', 'npm'), 'http://mirror:8080/osv/npm/all.zip');
    assert.equal(exportLocation('/srv/osv', 'Debian'), '/srv/osv/Debian/all.zip');
    assert.equal(exportLocation('file:///srv/osv', 'Go'), '/srv/osv/Go/all.zip');
  });

  it('never shows a mirror\'s password', () => {
    assert.equal(withoutCredentials('https://user:s3cret@mirror.example/osv/npm/all.zip'), 'https://mirror.example/osv/npm/all.zip');
    assert.equal(withoutCredentials('/srv/osv/npm/all.zip'), '/srv/osv/npm/all.zip');
  });
});

describe('reading a zip export entry by entry', () => {
  it('hands over the .json entries in order and passes over the rest', async () => {
    const file = await zipFile('ok.zip', [['A-1.json', '{"id":"A-1"}'], ['README.txt', 'hello'], ['dir/B-2.json', '{"id":"B-2"}']]);
    const seen: string[] = [];
    await readZipJson(file, async (name, text) => { seen.push(`${name}=${text}`); });
    assert.deepEqual(seen, ['A-1.json={"id":"A-1"}', 'dir/B-2.json={"id":"B-2"}']);
    const only: string[] = [];
    await readZipJson(file, async (name) => { only.push(name); }, undefined, (name) => name.startsWith('dir/'));
    assert.deepEqual(only, ['dir/B-2.json']);
  });

  it('refuses a file that is not a zip, and a truncated one', async () => {
    const notZip = path.join(dir, 'not.zip');
    writeFileSync(notZip, '<html>502 Bad Gateway</html>');
    await assert.rejects(readZipJson(notZip, async () => {}), (err: Error) => err instanceof ZipReadError && /not a readable zip archive/.test(err.message));
    const good = await zipFile('cut.zip', [['A-1.json', JSON.stringify({ id: 'A-1', pad: 'x'.repeat(5000) })]]);
    const bytes = (await import('node:fs')).readFileSync(good);
    writeFileSync(good, bytes.subarray(0, bytes.length - 30));
    await assert.rejects(readZipJson(good, async () => {}), ZipReadError);
  });

  it('checks each entry\'s CRC-32: damaged bytes are an error, not a garbled record', async () => {
    const file = await zipFile('damaged.zip', [['A-1.json', '{"id":"A-1","summary":"intact"}']], false);
    const fs = await import('node:fs');
    const bytes = fs.readFileSync(file);
    const at = bytes.indexOf(Buffer.from('intact'));
    bytes[at] = 'X'.charCodeAt(0);
    fs.writeFileSync(file, bytes);
    await assert.rejects(readZipJson(file, async () => {}), /A-1\.json is damaged \(its CRC-32 does not match\)/);
  });

  it('lets an error of the consumer through unchanged, and stops reading', async () => {
    const file = await zipFile('stop.zip', [['A.json', '{}'], ['B.json', '{}']]);
    const seen: string[] = [];
    await assert.rejects(readZipJson(file, async (name) => { seen.push(name); throw new Error('database is down'); }), /^Error: database is down$/);
    assert.deepEqual(seen, ['A.json']);
  });
});

describe('feed configuration', () => {
  it('syncs daily from OSV\'s bucket, for the ecosystems the images contain, stale after 7 days', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.scanner.syncInterval, 86400);
    assert.equal(config.scanner.feedBase, 'https://osv-vulnerabilities.storage.googleapis.com');
    assert.deepEqual(config.scanner.ecosystems, []);
    assert.equal(config.scanner.staleAfter, 7 * 86400);
  });

  it('takes a comma-separated ecosystem list and a mirror from the environment, and refuses other URL schemes', () => {
    const config = loadConfig({ env: { WHARF_SCANNER_ECOSYSTEMS: 'Debian:12, npm,,PyPI', WHARF_SCANNER_FEED_BASE: 'file:///srv/osv', WHARF_SCANNER_SYNC_INTERVAL: '0' } });
    assert.deepEqual(config.scanner.ecosystems, ['Debian:12', 'npm', 'PyPI']);
    assert.equal(config.scanner.feedBase, 'file:///srv/osv');
    assert.equal(config.scanner.syncInterval, 0);
    assert.throws(() => loadConfig({ env: { WHARF_SCANNER_FEED_BASE: 'ftp://mirror/osv' } }), /scanner\.feedBase.*http\(s\):\/\/ URL, a file:\/\/ URL or a directory path/s);
  });
});
