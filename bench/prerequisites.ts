/**
 * What the benchmark runs besides Wharf: Distribution (Debian's docker-registry), skopeo, curl and
 * PostgreSQL's server binaries. On a fresh Debian machine `npm run bench` installs the missing ones
 * itself when it can (root with apt-get, as .ci/run does for the tests); otherwise it says what to
 * install and stops before measuring anything.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { DISTRIBUTION_BIN } from './servers.js';

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function postgresInstalled(): boolean {
  if (process.env.WHARF_TEST_PG_BIN) return true;
  try {
    return readdirSync('/usr/lib/postgresql').some((version) => existsSync(`/usr/lib/postgresql/${version}/bin/initdb`));
  } catch {
    return false;
  }
}

/** Debian packages the chosen targets need that are not installed. */
export function missingPackages(needsPostgres: boolean, needsDistribution: boolean, needsRadosgw = false): string[] {
  const missing: string[] = [];
  // The S3 targets' store: a throwaway single-node Ceph cluster (test/support/s3-radosgw.sh).
  if (needsRadosgw) for (const pkg of ['ceph-mon', 'ceph-osd', 'radosgw']) if (!onPath(pkg)) missing.push(pkg);
  if (needsDistribution && !existsSync(DISTRIBUTION_BIN)) missing.push('docker-registry');
  if (!onPath('skopeo')) missing.push('skopeo');
  if (!onPath('curl')) missing.push('curl');
  if (needsPostgres && !postgresInstalled()) missing.push('postgresql');
  return missing;
}

export function ensurePrerequisites(needsPostgres: boolean, needsDistribution: boolean, log: (m: string) => void, needsRadosgw = false): void {
  const missing = missingPackages(needsPostgres, needsDistribution, needsRadosgw);
  if (missing.length === 0) return;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0 || !onPath('apt-get')) {
    throw new Error(`the benchmark needs ${missing.join(', ')}: install them (on Debian: ${command})`);
  }
  log(`installing ${missing.join(', ')} (apt-get)`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('sh', ['-c', `DEBIAN_FRONTEND=noninteractive ${command} -qq`], { stdio: ['ignore', 'ignore', 'inherit'] });
  // Debian's docker-registry and postgresql packages start system services; the benchmark runs its own.
  for (const service of ['docker-registry', 'postgresql']) {
    if (missing.includes(service)) {
      try { execFileSync('service', [service, 'stop'], { stdio: 'ignore' }); } catch { /* not running */ }
    }
  }
}
