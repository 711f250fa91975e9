import type { DetectedPackage } from './types.js';

/**
 * Alpine packages from /lib/apk/db/installed: one `X:value` line per field, packages separated
 * by blank lines. P is the name, V the version, A the arch and o the origin (the source package
 * that Alpine's security database names; absent when it equals the name).
 */
export function parseApkInstalled(content: string | Buffer): DetectedPackage[] {
  const out: DetectedPackage[] = [];
  let cur: Record<string, string> = {};
  const flush = (): void => {
    if (cur.P && cur.V) {
      const pkg: DetectedPackage = { type: 'apk', name: cur.P, version: cur.V, sourceName: cur.o ?? cur.P, sourceVersion: cur.V };
      if (cur.A) pkg.arch = cur.A;
      out.push(pkg);
    }
    cur = {};
  };
  for (const line of content.toString('utf8').split(/\r?\n/)) {
    if (line.trim() === '') flush();
    else if (line[1] === ':' && 'PVAo'.includes(line[0]!)) cur[line[0]!] = line.slice(2).trim();
  }
  flush();
  return out;
}
