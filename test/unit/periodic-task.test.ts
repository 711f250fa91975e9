import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PeriodicTask } from '../../src/ops/periodic-task.js';

/** A task whose runs end only when the test says so; counts runs under way at once. */
function controllableTask() {
  const state = { started: 0, running: 0, maxRunning: 0, finish: [] as Array<() => void> };
  const run = async (): Promise<void> => {
    state.started++;
    state.running++;
    state.maxRunning = Math.max(state.maxRunning, state.running);
    await new Promise<void>((resolve) => state.finish.push(resolve));
    state.running--;
  };
  return { state, run };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 2));
}

describe('periodic task', () => {
  it('does not start a run while the previous one is under way, however many intervals pass', async () => {
    const { state, run } = controllableTask();
    const task = new PeriodicTask(2, run);
    task.start();
    await until(() => state.started === 1);
    // Many intervals pass while the first run is held: setInterval would have started ~25 more.
    const heldSince = performance.now();
    await until(() => performance.now() - heldSince > 50);
    assert.equal(state.started, 1);
    state.finish.shift()!();
    // The schedule continues from the end of the run.
    await until(() => state.started === 2);
    assert.equal(state.maxRunning, 1);
    const stopped = task.stop();
    state.finish.shift()!();
    await stopped;
    assert.equal(state.running, 0, 'stop() waits for the run under way');
  });

  it('runNow() after a run under way, never beside it; nothing runs after stop()', async () => {
    const { state, run } = controllableTask();
    const task = new PeriodicTask(60_000, run);
    const first = task.runNow();
    const second = task.runNow();
    await until(() => state.started === 1);
    assert.equal(state.running, 1);
    state.finish.shift()!();
    await first;
    await until(() => state.started === 2);
    assert.equal(state.maxRunning, 1);
    state.finish.shift()!();
    await second;
    await task.stop();
    task.start();
    await new Promise((r) => setImmediate(r));
    assert.equal(state.started, 2, 'a stopped task is not scheduled again');
  });

  it('a failing run does not end the schedule', async () => {
    let runs = 0;
    const task = new PeriodicTask(2, async () => {
      runs++;
      if (runs === 1) throw new Error('database unavailable');
    });
    task.start();
    await until(() => runs >= 3);
    await task.stop();
  });
});
