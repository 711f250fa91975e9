// Loaded into a Wharf under test with `node --import`: every 250 ms it appends the longest
// event-loop delay of the last window to EVENT_LOOP_PROBE_FILE as one JSON line
// {"t": <ms since epoch at the window's end>, "maxMs": ..., "p99Ms": ..., "gcMaxMs": ...}, so a
// benchmark can tell how long requests were held by synchronous work (a SQLite statement, a long
// loop) and how much of it was V8's garbage collector (gcMaxMs: its longest pause in the window).
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const file = process.env.EVENT_LOOP_PROBE_FILE;
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  let gcMaxMs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, entry.duration);
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    appendFileSync(file, `${JSON.stringify({ t: Date.now(), maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6, gcMaxMs })}\n`);
    histogram.reset();
    gcMaxMs = 0;
  }, 250).unref();
}
