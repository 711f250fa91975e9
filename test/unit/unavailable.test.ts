import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDatabaseUnavailable } from '../../src/metadata/unavailable.js';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('isDatabaseUnavailable', () => {
  it('recognises PostgreSQL restarts, refused connections and pool timeouts', () => {
    assert.ok(isDatabaseUnavailable(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')));
    assert.ok(isDatabaseUnavailable(withCode('terminating connection due to administrator command', '57P01')));
    assert.ok(isDatabaseUnavailable(withCode('the database system is starting up', '57P03')));
    assert.ok(isDatabaseUnavailable(withCode('connection failure', '08006')));
    assert.ok(isDatabaseUnavailable(new Error('Connection terminated unexpectedly')));
    assert.ok(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect')));
    assert.ok(isDatabaseUnavailable(new Error('Connection terminated due to connection timeout', { cause: withCode('x', 'ETIMEDOUT') })));
    assert.ok(isDatabaseUnavailable(new Error('wrapped', { cause: withCode('read ECONNRESET', 'ECONNRESET') })));
  });

  it('recognises a SQLite database locked elsewhere or failing I/O', () => {
    assert.ok(isDatabaseUnavailable(withCode('database is locked', 'SQLITE_BUSY')));
    assert.ok(isDatabaseUnavailable(withCode('disk I/O error', 'SQLITE_IOERR_WRITE')));
  });

  it('leaves real faults alone: constraint violations, syntax errors, programming errors', () => {
    assert.ok(!isDatabaseUnavailable(withCode('duplicate key value violates unique constraint', '23505')));
    assert.ok(!isDatabaseUnavailable(withCode('syntax error at or near "selec"', '42601')));
    assert.ok(!isDatabaseUnavailable(withCode('UNIQUE constraint failed: tags.name', 'SQLITE_CONSTRAINT_UNIQUE')));
    assert.ok(!isDatabaseUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')")));
    assert.ok(!isDatabaseUnavailable('Connection terminated'));
    assert.ok(!isDatabaseUnavailable(undefined));
  });
});
