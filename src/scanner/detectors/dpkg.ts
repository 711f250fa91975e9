import { parseControlParagraphs } from './control.js';
import type { DetectedPackage } from './types.js';

/**
 * Debian/Ubuntu packages from /var/lib/dpkg/status, or one file of /var/lib/dpkg/status.d/
 * (distroless images write one paragraph per package there, without a Status field).
 * Only packages dpkg considers installed count: a removed package leaves "deinstall ok
 * config-files" behind, and its files (other than conffiles) are gone.
 */
export function parseDpkgStatus(content: string | Buffer, opts: { statusD?: boolean } = {}): DetectedPackage[] {
  const out: DetectedPackage[] = [];
  for (const p of parseControlParagraphs(content.toString('utf8'))) {
    const name = p.get('package');
    const version = p.get('version');
    if (!name || !version) continue;
    const status = p.get('status');
    if (status === undefined ? !opts.statusD : status.split(/\s+/)[2] !== 'installed') continue;
    const pkg: DetectedPackage = { type: 'deb', name, version };
    const arch = p.get('architecture');
    if (arch) pkg.arch = arch;
    // "Source: name" or "Source: name (version)" when the source version differs (binNMU);
    // without the field the source package has the binary's name and version.
    const m = /^(\S+)(?:\s+\((\S+)\))?$/.exec(p.get('source') ?? '');
    pkg.sourceName = m ? m[1]! : name;
    pkg.sourceVersion = m?.[2] ?? version;
    out.push(pkg);
  }
  return out;
}
