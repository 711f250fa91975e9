/** Resource use of a server process from /proc: RSS sampled while an item runs, CPU seconds used. */
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const CLOCK_TICKS = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; }
})();
const PAGE_SIZE = (() => {
  try { return Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096; } catch { return 4096; }
})();

/** utime + stime of a process, in seconds; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Resident set size in bytes (from statm: cheap enough to sample every few milliseconds). */
export function rssBytes(pid: number): number {
  try {
    const statm = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    return Number(statm[1]) * PAGE_SIZE;
  } catch {
    return 0;
  }
}

/** Peak RSS in bytes from /proc/<pid>/status (VmHWM), over the whole life of the process. */
export function peakRssBytes(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

/** A process and its direct children (PostgreSQL backends are children of the postmaster). */
export function processGroup(pid: number): number[] {
  const pids = [pid];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = Number(entry);
    if (child !== pid && parentOf(child) === pid) pids.push(child);
  }
  return pids;
}

/** The postmaster listening on `port` (found by its command line). */
export function findPostmaster(port: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline[0]?.endsWith('/postgres') && cmdline.includes(`-p ${port}`)) return Number(entry);
      if (cmdline[0]?.endsWith('/postgres') && cmdline.some((arg, i) => arg === '-p' && cmdline[i + 1] === String(port))) return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

export interface ResourceUse {
  cpuSeconds: number;
  /** CPU seconds of helper processes (PostgreSQL) during the same interval. */
  helperCpuSeconds?: number;
  rssStartMiB: number;
  rssPeakMiB: number;
  rssEndMiB: number;
  /** [milliseconds since start, RSS MiB] */
  rssSeries: Array<[number, number]>;
}

const MIB = 1024 * 1024;

/** Samples RSS every `intervalMs` while running; `stop()` returns what the process used meanwhile. */
export class ResourceSampler {
  private readonly startCpu: number;
  private readonly startHelperCpu: number;
  private readonly startedAt = performance.now();
  private readonly series: Array<[number, number]> = [];
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number, private readonly helperPid?: number, intervalMs = 50) {
    this.startCpu = cpuSeconds(pid);
    this.startHelperCpu = this.helperCpu();
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private helperCpu(): number {
    if (this.helperPid === undefined) return 0;
    return processGroup(this.helperPid).reduce((sum, p) => sum + cpuSeconds(p), 0);
  }

  private sample(): void {
    const rss = rssBytes(this.pid) / MIB;
    if (rss > this.peak) this.peak = rss;
    this.series.push([Math.round(performance.now() - this.startedAt), Math.round(rss * 10) / 10]);
  }

  stop(): ResourceUse {
    clearInterval(this.timer);
    this.sample();
    const use: ResourceUse = {
      cpuSeconds: cpuSeconds(this.pid) - this.startCpu,
      rssStartMiB: this.series[0]![1],
      rssPeakMiB: Math.round(this.peak * 10) / 10,
      rssEndMiB: this.series[this.series.length - 1]![1],
      rssSeries: thin(this.series, 60),
    };
    if (this.helperPid !== undefined) use.helperCpuSeconds = this.helperCpu() - this.startHelperCpu;
    return use;
  }
}

function thin<T>(values: T[], max: number): T[] {
  if (values.length <= max) return values;
  const step = values.length / max;
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(values[Math.floor(i * step)]!);
  out.push(values[values.length - 1]!);
  return out;
}
