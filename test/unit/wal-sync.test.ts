import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WalSync } from '../../src/metadata/wal-sync.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-walsync-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A WalSync whose flushes the test completes by hand. */
function controlled() {
  const file = path.join(dir, `wal-${Math.random().toString(16).slice(2)}`);
  writeFileSync(file, 'frames');
  const pending: Array<() => void> = [];
  const wal = new WalSync(file, () => new Promise<void>((resolve) => pending.push(resolve)));
  const settled = (p: Promise<void>) => { let done = false; void p.then(() => { done = true; }); return () => done; };
  const tick = async () => { for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); };
  /** Waits (without a fixed sleep) until `count` syncs have begun: the first opens the file on the thread pool. */
  const begun = async (count: number) => {
    const deadline = Date.now() + 30_000;
    while (pending.length < count) {
      assert.ok(Date.now() < deadline, `sync ${count} never began`);
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  return { wal, pending, settled, tick, begun };
}

describe('WalSync (group commit of the SQLite WAL)', () => {
  it('answers a writer only after a sync that began after its call, and one sync serves every writer waiting for it', async () => {
    const { wal, pending, settled, tick, begun } = controlled();
    const a = settled(wal.sync());
    await begun(1);
    // These committed while the first sync runs: it may not hold their frames.
    const b = settled(wal.sync());
    const c = settled(wal.sync());
    await tick();
    assert.equal(pending.length, 1, 'no second sync while one runs');
    pending[0]!();
    await tick();
    assert.equal(a(), true);
    assert.equal(b(), false, 'a sync that began before the commit does not answer it');
    assert.equal(c(), false);
    await begun(2);
    pending[1]!();
    await tick();
    assert.equal(b(), true);
    assert.equal(c(), true);
    assert.equal(wal.completed, 2, 'three writers, two syncs');
    await wal.close();
  });

  it('starts at once when no sync runs, and a failed sync fails its writers but not the next ones', async () => {
    const file = path.join(dir, 'wal-fail');
    writeFileSync(file, 'frames');
    let fail = true;
    const wal = new WalSync(file, async () => { if (fail) throw new Error('EIO'); });
    await assert.rejects(wal.sync(), /EIO/);
    fail = false;
    await wal.sync();
    assert.equal(wal.completed, 1);
    await wal.close();
  });
});
