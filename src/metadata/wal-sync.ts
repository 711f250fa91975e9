import { open, type FileHandle } from 'node:fs/promises';

/**
 * Group commit for SQLite in WAL mode. With synchronous=FULL every commit fsyncs the WAL on the
 * event loop (better-sqlite3 is synchronous): about 6 ms a push on a VM disk, during which no other
 * request runs, and pushes in parallel queue one fsync each. With synchronous=NORMAL a commit only
 * writes the WAL; WalSync then makes it durable off the event loop (fdatasync of the WAL file on
 * libuv's thread pool), and every commit made while one sync runs shares the next. A writer is told
 * its change is done only after a sync that began after its commit, so what Wharf acknowledges has
 * reached the disk, exactly as FULL would have it; readers may see a commit a few milliseconds
 * before it is durable.
 *
 * Why a sync of the WAL file is enough: NORMAL already syncs the WAL before each checkpoint and the
 * database after it; what it skips is the sync of the frames of each commit, which this adds.
 */
export class WalSync {
  private handle: FileHandle | undefined;
  private inFlight: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  /** Syncs completed (for tests and metrics). */
  completed = 0;

  constructor(private readonly walPath: string, private readonly flush: (wal: FileHandle) => Promise<void> = (wal) => wal.datasync()) {}

  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void> {
    // A sync already running may have begun before the caller's commit: wait for the one after it.
    if (this.queued) return this.queued;
    if (this.inFlight) {
      this.queued = this.inFlight.catch(() => undefined).then(() => {
        this.queued = undefined;
        return this.start();
      });
      return this.queued;
    }
    return this.start();
  }

  private start(): Promise<void> {
    const running = this.run().finally(() => {
      if (this.inFlight === running) this.inFlight = undefined;
    });
    this.inFlight = running;
    return running;
  }

  private async run(): Promise<void> {
    // Opened on first use: the WAL file exists once something was written.
    this.handle ??= await open(this.walPath, 'r');
    await this.flush(this.handle);
    this.completed++;
  }

  async close(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
    await this.queued?.catch(() => undefined);
    await this.handle?.close();
    this.handle = undefined;
  }
}
