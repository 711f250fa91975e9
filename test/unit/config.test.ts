import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';

describe('configuration', () => {
  it('defaults to port 5000, ./wharf-data and SQLite inside it', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.http.port, 5000);
    assert.equal(config.storage.dataDir, path.resolve('wharf-data'));
    assert.equal(config.database.engine, 'sqlite');
    assert.equal(config.database.sqlitePath, path.join(path.resolve('wharf-data'), 'wharf.db'));
    assert.equal(config.registry.uploadExpiry, 86400);
  });

  it('layers the YAML file over defaults and WHARF_* variables over the file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-cfg-'));
    const file = path.join(dir, 'wharf.yaml');
    writeFileSync(file, 'http:\n  port: 6000\n  host: 127.0.0.1\nregistry:\n  uploadExpiry: 30m\n  deleteEnabled: false\n');
    const config = loadConfig({ file, env: { WHARF_HTTP_PORT: '7000' } });
    assert.equal(config.http.port, 7000);
    assert.equal(config.http.host, '127.0.0.1');
    assert.equal(config.registry.uploadExpiry, 1800);
    assert.equal(config.registry.deleteEnabled, false);
  });

  it('the s3 driver takes its settings from WHARF_STORAGE_S3_* and says which one is wrong', () => {
    const config = loadConfig({ env: { WHARF_STORAGE_DRIVER: 's3', WHARF_STORAGE_S3_BUCKET: 'wharf-blobs', WHARF_STORAGE_S3_ENDPOINT: 'http://rgw:7480', WHARF_STORAGE_S3_REDIRECT: 'true', WHARF_STORAGE_S3_REQUEST_TIMEOUT: '5s' } });
    assert.equal(config.storage.driver, 's3');
    assert.equal(config.storage.s3Bucket, 'wharf-blobs');
    assert.equal(config.storage.s3Redirect, true);
    assert.equal(config.storage.s3ForcePathStyle, true);
    assert.equal(config.storage.s3RequestTimeout, 5);
    const refused = (env: Record<string, string>, message: RegExp) => assert.throws(() => loadConfig({ env: { WHARF_STORAGE_DRIVER: 's3', ...env } }), (err: unknown) => err instanceof ConfigError && message.test(err.message));
    refused({}, /storage\.s3Bucket.*required when storage\.driver is "s3"/);
    refused({ WHARF_STORAGE_S3_BUCKET: 'Not_A_Bucket' }, /"Not_A_Bucket" is not an S3 bucket name/);
    refused({ WHARF_STORAGE_S3_BUCKET: 'wharf', WHARF_STORAGE_S3_ACCESS_KEY_ID: 'AKIA' }, /set both, or neither/);
    refused({ WHARF_STORAGE_S3_BUCKET: 'wharf', WHARF_STORAGE_S3_ENDPOINT: 'rgw:7480' }, /storage\.s3Endpoint \(WHARF_STORAGE_S3_ENDPOINT\)/);
    // The filesystem driver ignores the S3 settings, so a half-configured S3 section does not stop it.
    assert.equal(loadConfig({ env: { WHARF_STORAGE_S3_ACCESS_KEY_ID: 'AKIA' } }).storage.driver, 'filesystem');
  });

  it('names the wrong setting and its variable', () => {
    assert.throws(() => loadConfig({ env: { WHARF_HTTP_PORT: 'http' } }), (err: unknown) => err instanceof ConfigError && /http\.port \(WHARF_HTTP_PORT\)/.test(err.message));
    assert.throws(() => loadConfig({ env: { WHARF_REGISTRY_UPLOAD_EXPIRY: 'soon' } }), /registry\.uploadExpiry.*not a duration/);
    assert.throws(() => loadConfig({ env: { WHARF_DATABASE_ENGINE: 'postgres' } }), /database\.url.*required/);
    assert.throws(() => loadConfig({ env: { WHARF_DATABASE_ENGINE: 'mysql' } }), /database\.engine/);
  });

  it('http.trustProxy is off by default and takes true, or proxy addresses and CIDRs', () => {
    assert.equal(loadConfig({ env: {} }).http.trustProxy, false);
    assert.equal(loadConfig({ env: { WHARF_HTTP_TRUST_PROXY: 'true' } }).http.trustProxy, true);
    assert.equal(loadConfig({ env: { WHARF_HTTP_TRUST_PROXY: 'false' } }).http.trustProxy, false);
    assert.deepEqual(loadConfig({ env: { WHARF_HTTP_TRUST_PROXY: '10.0.0.5, 10.1.0.0/16,fd00::/8,loopback' } }).http.trustProxy, ['10.0.0.5', '10.1.0.0/16', 'fd00::/8', 'loopback']);
    assert.deepEqual(loadConfig({ env: {}, overrides: { http: { trustProxy: ['192.168.1.1'] } } }).http.trustProxy, ['192.168.1.1']);
    assert.throws(() => loadConfig({ env: { WHARF_HTTP_TRUST_PROXY: '2' } }), /http\.trustProxy \(WHARF_HTTP_TRUST_PROXY\).*"2" is not an address or CIDR/);
    assert.throws(() => loadConfig({ env: { WHARF_HTTP_TRUST_PROXY: '10.0.0.0/33,proxy.internal' } }), /"10\.0\.0\.0\/33", "proxy\.internal" are not/);
  });

  it('the login throttle forgets after an hour and waits 1 s, doubling up to 15 minutes, by default', () => {
    const { auth } = loadConfig({ env: {} });
    assert.deepEqual([auth.maxFailedLogins, auth.loginWindow, auth.loginBackoff, auth.loginMaxBackoff], [10, 3600, 1, 900]);
  });

  it('refuses unknown keys in the file and unknown WHARF_ variables', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-cfg-'));
    const file = path.join(dir, 'wharf.yaml');
    writeFileSync(file, 'http:\n  prot: 6000\n');
    assert.throws(() => loadConfig({ file, env: {} }), /http.*prot/);
    assert.throws(() => loadConfig({ env: { WHARF_HTTP_PROT: '1' } }), /WHARF_HTTP_PROT/);
  });

  it('accepts the WHARF_ variables that are not configuration keys: the CLI\'s login file, the test harness\'s', () => {
    const env = { WHARF_CLI_CONFIG: '/tmp/wharf-cli.json', WHARF_CONFIG: '', WHARF_ADMIN_PASSWORD: 'a-long-password-0123', WHARF_TEST_DATABASE_URL: 'postgres://localhost/x', WHARF_HTTP_PORT: '7001' };
    assert.equal(loadConfig({ env }).http.port, 7001);
    // Still strict around them: a near miss is a typo, not one of those.
    assert.throws(() => loadConfig({ env: { WHARF_CLI_CONFIGG: 'x' } }), /unknown configuration variable WHARF_CLI_CONFIGG: fix the name or unset it/);
    assert.throws(() => loadConfig({ env: { WHARF_TEST: 'x' } }), /WHARF_TEST\b/);
  });

  it('reports an unreadable or malformed file', () => {
    assert.throws(() => loadConfig({ file: '/nonexistent/wharf.yaml', env: {} }), /cannot read configuration file/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-cfg-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'http: [\n');
    assert.throws(() => loadConfig({ file, env: {} }), /not valid YAML/);
  });
});
