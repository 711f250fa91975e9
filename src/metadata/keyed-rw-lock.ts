interface KeyState {
  readers: number;
  writer: boolean;
  waiting: Array<{ exclusive: boolean; wake: () => void }>;
}

/**
 * Read-write locks by key within one process: any number of shared holders, or one exclusive
 * holder; waiters are served in order, so a waiting exclusive holder is not starved by new shared ones.
 */
export class KeyedRwLock {
  private readonly keys = new Map<string, KeyState>();

  async shared<T>(key: string, task: () => Promise<T>): Promise<T> {
    await this.acquire(key, false);
    try {
      return await task();
    } finally {
      this.release(key, false);
    }
  }

  async exclusive<T>(key: string, task: () => Promise<T>): Promise<T> {
    await this.acquire(key, true);
    try {
      return await task();
    } finally {
      this.release(key, true);
    }
  }

  /**
   * Takes the exclusive lock of each of `keys` that is free right now, never waiting (a holder of many
   * keys that waited for more could deadlock with holders of one that wait for it), runs `task` with
   * the keys it got, and releases them after.
   */
  async exclusiveWhereFree<T>(keys: readonly string[], task: (held: string[]) => Promise<T>): Promise<T> {
    const held: string[] = [];
    for (const key of new Set(keys)) {
      const state = this.keys.get(key);
      if (state && (state.writer || state.readers > 0 || state.waiting.length > 0)) continue;
      this.keys.set(key, { readers: 0, writer: true, waiting: [] });
      held.push(key);
    }
    try {
      return await task(held);
    } finally {
      for (const key of held) this.release(key, true);
    }
  }

  private acquire(key: string, exclusive: boolean): Promise<void> {
    let state = this.keys.get(key);
    if (!state) {
      state = { readers: 0, writer: false, waiting: [] };
      this.keys.set(key, state);
    }
    if (state.waiting.length === 0 && !state.writer && (!exclusive || state.readers === 0)) {
      if (exclusive) state.writer = true;
      else state.readers++;
      return Promise.resolve();
    }
    return new Promise((wake) => state.waiting.push({ exclusive, wake }));
  }

  private release(key: string, exclusive: boolean): void {
    const state = this.keys.get(key)!;
    if (exclusive) state.writer = false;
    else state.readers--;
    while (state.waiting.length > 0 && !state.writer) {
      const next = state.waiting[0]!;
      if (next.exclusive && state.readers > 0) break;
      state.waiting.shift();
      if (next.exclusive) state.writer = true;
      else state.readers++;
      next.wake();
    }
    if (!state.writer && state.readers === 0 && state.waiting.length === 0) this.keys.delete(key);
  }
}
