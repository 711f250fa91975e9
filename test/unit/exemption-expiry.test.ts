import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expiryFrom } from '../../src/cli/commands/scanner.js';
import { isInForce } from '../../src/scanner/report.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');

describe('exemption expiry', () => {
  it('--expires takes a duration from now or an ISO date', () => {
    assert.equal(expiryFrom('30d', NOW), '2026-12-30T12:00:00.000Z');
    assert.equal(expiryFrom('2w', NOW), '2026-12-14T12:00:00.000Z');
    assert.equal(expiryFrom('2027-01-31', NOW), '2027-01-31T00:00:00.000Z');
    assert.equal(expiryFrom('2027-01-31T08:30:00Z', NOW), '2027-01-31T08:30:00.000Z');
    assert.throws(() => expiryFrom('next tuesday', NOW), /neither a duration \(30d, 12w\) nor a date/);
    assert.throws(() => expiryFrom('30x', NOW), /neither a duration/);
  });

  it('an exemption is in force without an expiry and until its expiry, not at or after it', () => {
    assert.equal(isInForce({ expires_at: null }, NOW), true);
    assert.equal(isInForce({}, NOW), true, 'rows stored before expiries existed');
    assert.equal(isInForce({ expires_at: NOW + 1 }, NOW), true);
    assert.equal(isInForce({ expires_at: NOW }, NOW), false);
    // PostgreSQL returns bigint columns as text.
    assert.equal(isInForce({ expires_at: String(NOW - 1) as unknown as number }, NOW), false);
  });
});
