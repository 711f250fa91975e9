/**
 * What the image list's security column costs: GET /api/v1/images?limit=1000 on a namespace of
 * 1,000 scanned images, each with a stored report the size of a small Debian image's (120
 * packages, 15 vulnerability findings of mixed severities) and 5 account exemptions to apply
 * (SQLite, in-process server; the reports are written straight into the metadata store, not scanned).
 * Also the console's overview of the same account (GET /api/v1/stats), which counts the open
 * vulnerabilities of every image, and the longest the event loop was held during each request.
 * Run: node --import tsx bench/image-list-status.ts [images]
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { startTestServer, TEST_ADMIN_PASSWORD } from '../test/support/server.js';
import { basic, pushImage } from '../test/support/iam.js';
import { saveScan } from '../src/metadata/scans.js';

const count = Number(process.argv[2] ?? 1000);
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];
const server = await startTestServer('sqlite', { auth: { enabled: true }, scanner: { enabled: false } });
const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });

function reportOf(digest: string, i: number): string {
  const packages = Array.from({ length: 120 }, (_, p) => ({ ecosystem: 'Debian:12', name: `pkg${p}`, version: `1.${p}.${i % 7}-1`, source: `src${p}` }));
  const vulnerabilities = Array.from({ length: 15 }, (_, v) => ({
    advisoryId: `DSA-${5000 + v}-1`, ids: [`DSA-${5000 + v}-1`, `CVE-2024-${1000 + v}`], aliases: [`CVE-2024-${1000 + v}`], cves: [`CVE-2024-${1000 + v}`],
    ecosystem: 'Debian:12', package: `src${v}`, installedPackage: `pkg${v}`, installedVersion: `1.${v}.0-1`, fixedVersion: v % 3 ? `1.${v}.1-1` : null,
    severity: SEVERITIES[(v + i) % SEVERITIES.length], severitySource: 'cvss-v3.1', summary: 'a vulnerability of the benchmark', fix: `upgrade pkg${v}`,
  }));
  return JSON.stringify({ digest, os: { id: 'debian', versionId: '12' }, packageCount: packages.length, vulnerabilities, configurationIssues: [], undetermined: [], warnings: [], vulndbDate: null, scannedAt: new Date().toISOString(), packages });
}

try {
  const seeded = performance.now();
  for (let i = 0; i < count; i++) {
    const image = await pushImage(server.url, 'bench/app', `t${i}`, admin);
    await saveScan(server.metadata.db, image.digest, { state: 'done', report: reportOf(image.digest, i), error: null, scannedAt: Date.now(), vulndbImportId: null });
  }
  for (let e = 0; e < 5; e++) {
    await fetch(`${server.url}/api/v1/exemptions`, { method: 'POST', headers: { Authorization: admin, 'Content-Type': 'application/json' }, body: JSON.stringify({ issueId: `CVE-2024-${1000 + e}`, scope: 'namespace', namespace: 'bench', reason: 'benchmark' }) });
  }
  console.log(`seeded ${count} scanned images in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);
  // The overview first, while nothing is cached (the list below caches the same summaries).
  const stalls = monitorEventLoopDelay({ resolution: 1 });
  const overview: Array<{ ms: number; stallMs: number }> = [];
  for (let round = 0; round < 10; round++) {
    stalls.reset();
    stalls.enable();
    const started = performance.now();
    const res = await fetch(`${server.url}/api/v1/stats?days=30`, { headers: { Authorization: admin } });
    const body = await res.json() as { scannedImages: number };
    overview.push({ ms: performance.now() - started, stallMs: stalls.max / 1e6 });
    stalls.disable();
    if (body.scannedImages !== count) throw new Error(`the overview counted ${body.scannedImages} scanned images, not ${count}`);
  }
  console.log(`first GET /api/v1/stats after start: ${overview[0]!.ms.toFixed(1)} ms, event loop held at most ${overview[0]!.stallMs.toFixed(1)} ms at a time`);
  const later = overview.slice(1).sort((a, b) => a.ms - b.ms);
  console.log(`GET /api/v1/stats: median ${later[4]!.ms.toFixed(1)} ms, event loop held at most ${Math.max(...later.map((o) => o.stallMs)).toFixed(1)} ms at a time`);

  const times: number[] = [];
  let sample: unknown;
  for (let round = 0; round < 10; round++) {
    const started = performance.now();
    const res = await fetch(`${server.url}/api/v1/images?namespace=bench&limit=1000`, { headers: { Authorization: admin } });
    const body = await res.json() as { images: unknown[] };
    times.push(performance.now() - started);
    sample = body.images[0];
    if (body.images.length !== count) throw new Error(`listed ${body.images.length} images, not ${count}`);
  }
  // The first request after start reads every report (nothing cached yet); the rest are what users see.
  console.log(`first GET /api/v1/images?limit=${count} after start: ${times[0]!.toFixed(1)} ms`);
  // The security column alone: what the scanner spends on the page (the rest is listing, access, signatures).
  const rows = await server.metadata.db.selectFrom('manifests as m').innerJoin('repositories as r', 'r.id', 'm.repository_id').select(['r.name as name', 'm.digest as digest']).execute();
  const accountId = (await server.metadata.db.selectFrom('namespaces').select('account_id').where('name', '=', 'bench').executeTakeFirstOrThrow()).account_id;
  const statusTimes: number[] = [];
  for (let round = 0; round < 10; round++) {
    const started = performance.now();
    await server.scanner.statuses(rows, accountId);
    statusTimes.push(performance.now() - started);
  }
  statusTimes.sort((a, b) => a - b);
  console.log(`scanner.statuses() of ${rows.length} images: median ${statusTimes[5]!.toFixed(1)} ms, min ${statusTimes[0]!.toFixed(1)} ms, max ${statusTimes[9]!.toFixed(1)} ms`);
  times.sort((a, b) => a - b);
  console.log(`GET /api/v1/images?limit=${count}: median ${times[5]!.toFixed(1)} ms, min ${times[0]!.toFixed(1)} ms, max ${times[9]!.toFixed(1)} ms`);
  console.log('first image:', JSON.stringify(sample));

} finally {
  await server.stop();
}
