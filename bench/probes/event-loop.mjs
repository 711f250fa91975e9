// Loaded into a Wharf under test with `node --import`: every 250 ms it appends the longest
// event-loop delay of the last window to EVENT_LOOP_PROBE_FILE as one JSON line
// {"t": <ms since epoch at the window's end>, "maxMs": ..., "p99Ms": ...}, so a benchmark can
// tell how long requests were held by synchronous work (a SQLite statement, a long loop).
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.EVENT_LOOP_PROBE_FILE;
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  setInterval(() => {
    appendFileSync(file, `${JSON.stringify({ t: Date.now(), maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6 })}\n`);
    histogram.reset();
  }, 250).unref();
}
