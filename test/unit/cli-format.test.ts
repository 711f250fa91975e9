import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, humanSize, parseSize, relativeTime, shortDigest, table } from '../../src/cli/format.js';

describe('CLI output formatting', () => {
  it('prints sizes in decimal units the way the registry console does', () => {
    assert.equal(humanSize(0), '0 B');
    assert.equal(humanSize(999), '999 B');
    assert.equal(humanSize(1000), '1 kB');
    assert.equal(humanSize(2_600_000), '2.6 MB');
    assert.equal(humanSize(27_020_000), '27 MB');
    assert.equal(humanSize(999_600), '1 MB');
    assert.equal(humanSize(1_500_000_000), '1.5 GB');
  });

  it('parses sizes with a unit, refuses bare numbers, and reads unlimited as no limit', () => {
    assert.equal(parseSize('500MB'), 500_000_000);
    assert.equal(parseSize('2 GiB'), 2 * 2 ** 30);
    assert.equal(parseSize('1.5gb'), 1_500_000_000);
    assert.equal(parseSize('0B'), 0);
    assert.equal(parseSize('unlimited'), null);
    assert.throws(() => parseSize('500'), /"500" has no unit/);
    assert.throws(() => parseSize('5 parsecs'), /not a size|unknown unit/);
    assert.throws(() => parseSize('-1MB'), /not a size/);
  });

  it('says how long ago like docker does', () => {
    const now = Date.parse('2024-06-01T12:00:00Z');
    const ago = (ms: number) => relativeTime(new Date(now - ms).toISOString(), now);
    assert.equal(ago(200), 'Less than a second ago');
    assert.equal(ago(1000), '1 second ago');
    assert.equal(ago(45_000), '45 seconds ago');
    assert.equal(ago(90_000), 'About a minute ago');
    assert.equal(ago(10 * 60_000), '10 minutes ago');
    assert.equal(ago(3_600_000), 'About an hour ago');
    assert.equal(ago(6 * 3_600_000), '6 hours ago');
    assert.equal(ago(3 * 86_400_000), '3 days ago');
    assert.equal(ago(21 * 86_400_000), '3 weeks ago');
    assert.equal(ago(90 * 86_400_000), '3 months ago');
    assert.equal(ago(800 * 86_400_000), '2 years ago');
    assert.equal(ago(-5000), 'Less than a second ago', 'a clock ahead of ours is not the future');
    assert.equal(relativeTime(null, now), '-');
    assert.equal(humanDuration(59_999), '59 seconds');
  });

  it('shortens digests to 12 hex characters', () => {
    assert.equal(shortDigest(`sha256:${'0123456789abcdef'.repeat(4)}`), '0123456789ab');
  });

  it('pads table columns to the widest cell with three spaces between, no trailing spaces', () => {
    assert.equal(table(['A', 'Long header', 'C'], [['xx', 'y', ''], ['x', 'yyyyyyyyyyyyy', 'z']]),
      'A    Long header     C\nxx   y               -\nx    yyyyyyyyyyyyy   z\n');
  });
});
