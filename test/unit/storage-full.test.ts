import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStorageFull, storageFullError } from '../../src/storage/full.js';
import { RegistryError } from '../../src/oci/errors.js';

function withCode(code: string, message = 'failed'): Error {
  return Object.assign(new Error(message), { code });
}

describe('isStorageFull', () => {
  it('recognises every layer\'s way of saying it is out of space', () => {
    assert.equal(isStorageFull(withCode('ENOSPC')), true, 'filesystem');
    assert.equal(isStorageFull(withCode('EDQUOT')), true, 'disk quota');
    assert.equal(isStorageFull(withCode('SQLITE_FULL')), true, 'SQLite');
    assert.equal(isStorageFull(withCode('53100')), true, 'PostgreSQL disk_full');
  });

  it('follows wrapped causes, and does not mistake other failures for a full disk', () => {
    assert.equal(isStorageFull(new Error('migration failed', { cause: withCode('SQLITE_FULL') })), true);
    assert.equal(isStorageFull(storageFullError(withCode('ENOSPC'))), true);
    assert.equal(isStorageFull(withCode('EACCES')), false);
    assert.equal(isStorageFull(withCode('SQLITE_BUSY')), false);
    assert.equal(isStorageFull(new RegistryError('UNKNOWN')), false);
    assert.equal(isStorageFull(undefined), false);
    assert.equal(isStorageFull('ENOSPC'), false);
  });

  it('answers 507 with the spec\'s UNKNOWN code and keeps the cause', () => {
    const cause = withCode('ENOSPC');
    const err = storageFullError(cause);
    assert.equal(err.status, 507);
    assert.equal(err.code, 'UNKNOWN');
    assert.equal(err.cause, cause);
    assert.match(err.message, /^storage is full: .*once space has been freed/);
  });
});
