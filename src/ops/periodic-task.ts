/**
 * A background task run every `intervalMs`, counted from the end of the previous run, so two runs
 * never overlap: with setInterval a run slower than its interval (a pull-statistics flush after a
 * busy minute, a purge of thousands of uploads) had the next one start beside it, each holding a
 * database connection and competing with requests for the same rows.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly intervalMs: number, private readonly task: () => Promise<void>) {}

  /** Runs the task now (when `immediately`) or after one interval, then again an interval after each run ends. */
  start(immediately = false): void {
    if (immediately) void this.runNow();
    else this.schedule();
  }

  /** Runs the task once, after the run in progress if there is one; the schedule continues from its end. */
  runNow(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const previous = this.running ?? Promise.resolve();
    // Tasks log their own failures; a failed run must not end the schedule.
    const run = previous.then(() => this.task()).catch(() => undefined).finally(() => {
      if (this.running === run) {
        this.running = undefined;
        this.schedule();
      }
    });
    this.running = run;
    return run;
  }

  /** No further runs; resolves when the run in progress (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(): void {
    if (this.stopped || this.running || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runNow();
    }, this.intervalMs);
    this.timer.unref();
  }
}
