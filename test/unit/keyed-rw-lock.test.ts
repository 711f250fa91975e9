import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedRwLock } from '../../src/metadata/keyed-rw-lock.js';

/** A task the test finishes by hand, recording when it started. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => { open = resolve; });
  return { task: async () => { log.push(`${name} start`); await opened; log.push(`${name} end`); }, open };
}

const ticks = async () => { for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); };

describe('KeyedRwLock (the SQLite blob locks)', () => {
  it('lets shared holders run together, an exclusive one alone, and serves waiters in order', async () => {
    const lock = new KeyedRwLock();
    const log: string[] = [];
    const [r1, r2, w, r3] = [gate(log, 'r1'), gate(log, 'r2'), gate(log, 'w'), gate(log, 'r3')];
    const done = [lock.shared('d', r1.task), lock.shared('d', r2.task), lock.exclusive('d', w.task), lock.shared('d', r3.task)];
    await ticks();
    assert.deepEqual(log, ['r1 start', 'r2 start'], 'two shared holders at once; the exclusive waits, and a later shared one waits behind it');
    r1.open();
    await ticks();
    assert.deepEqual(log.slice(2), ['r1 end'], 'the exclusive holder waits for every shared one');
    r2.open();
    await ticks();
    assert.deepEqual(log.slice(3), ['r2 end', 'w start']);
    w.open();
    await ticks();
    assert.deepEqual(log.slice(5), ['w end', 'r3 start']);
    r3.open();
    await Promise.all(done);
  });

  it('keys are independent, and a failing task releases its lock', async () => {
    const lock = new KeyedRwLock();
    await assert.rejects(lock.exclusive('a', async () => { throw new Error('boom'); }), /boom/);
    const log: string[] = [];
    const a = gate(log, 'a');
    const held = lock.exclusive('a', a.task);
    await lock.exclusive('b', async () => { log.push('b'); });
    await ticks();
    assert.deepEqual(log, ['a start', 'b']);
    a.open();
    await held;
    await lock.shared('a', async () => { log.push('a again'); });
    assert.equal(log.at(-1), 'a again');
  });

  it('exclusiveWhereFree takes only the free keys, never waits, and holds them off from new holders until the task ends', async () => {
    const lock = new KeyedRwLock();
    const log: string[] = [];
    const reader = gate(log, 'reader');
    const writer = gate(log, 'writer');
    const holding = [lock.shared('b', reader.task), lock.exclusive('c', writer.task)];
    await ticks();
    let got: string[] = [];
    const batch = gate(log, 'batch');
    const swept = lock.exclusiveWhereFree(['a', 'b', 'c', 'd', 'a'], async (held) => { got = held; await batch.task(); });
    await ticks();
    assert.deepEqual(got, ['a', 'd'], 'the keys others hold are left out, a repeated key is taken once, and nothing waited');
    const later = gate(log, 'later');
    const waiting = lock.shared('a', later.task);
    await ticks();
    assert.ok(!log.includes('later start'), 'a new holder of a batch key waits for the batch');
    batch.open();
    await ticks();
    assert.ok(log.includes('later start'), 'and runs once the batch ends');
    later.open();
    reader.open();
    writer.open();
    await Promise.all([swept, waiting, ...holding]);
    // Everything was released: the batch gets every key now.
    await lock.exclusiveWhereFree(['a', 'b', 'c', 'd'], async (held) => { got = held; });
    assert.deepEqual(got, ['a', 'b', 'c', 'd']);
  });

  it('exclusiveWhereFree leaves a key to the exclusive holder that was queued for it', async () => {
    const lock = new KeyedRwLock();
    const log: string[] = [];
    const reader = gate(log, 'reader');
    const first = lock.shared('k', reader.task);
    const queued = gate(log, 'queued');
    const second = lock.exclusive('k', queued.task);
    reader.open();
    await first;
    let got: string[] = ['unset'];
    await lock.exclusiveWhereFree(['k'], async (held) => { got = held; });
    assert.deepEqual(got, [], 'the queued exclusive holder runs now, so the batch leaves the key');
    queued.open();
    await second;
  });
});
