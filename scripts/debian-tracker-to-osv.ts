/**
 * Converts Debian security tracker entries to OSV records.
 *
 * Input: the tracker's entries as JSON, one file per entry, in the shape aquasecurity/vuln-list-debian
 * publishes them (`tracker/DSA/DSA-….json`, `tracker/DLA/…`, `tracker/CVE/<year>/CVE-….json`): a Header
 * with the entry's first line and Annotations, each keeping the tracker's original line in `Original`.
 * Output: one OSV record per entry, shaped as Debian's own OSV export shapes them:
 *  - DSA-/DLA- advisories keep their id; the CVEs they fix become `aliases`.
 *  - a CVE entry becomes DEBIAN-CVE-…, with the CVE in `upstream`.
 *  - each source package gets one `affected` entry per release (Debian:11 bullseye, Debian:12 bookworm,
 *    Debian:13 trixie), with an ECOSYSTEM range: `introduced 0` and `fixed <version>` when the tracker
 *    names a fixed version for that release, `introduced 0` alone when it is open there (unfixed,
 *    no-dsa, postponed, ignored, end-of-life), nothing when it is <not-affected>. A release the
 *    tracker line does not name has the status of unstable (the `- package …` line), as the tracker
 *    itself reads it.
 *
 * Usage: npx tsx scripts/debian-tracker-to-osv.ts <out-dir> <modified RFC 3339 date for CVE entries> <tracker json>...
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

interface Annotation {
  Original: string;
  Type: string;
  Release?: string;
  Package?: string;
  Kind?: string;
  Version?: string;
  Description?: string;
  Bugs?: string[];
}

interface TrackerEntry {
  Header: { Original: string; ID: string; Description: string };
  Annotations: Annotation[];
}

const RELEASES: Record<string, string> = { bullseye: 'Debian:11', bookworm: 'Debian:12', trixie: 'Debian:13' };
const OPEN_KINDS = new Set(['unfixed', 'no-dsa', 'postponed', 'ignored', 'end-of-life', 'undetermined']);

const MONTHS: Record<string, string> = { Jan: '01', Feb: '02', Mar: '03', Apr: '04', May: '05', Jun: '06', Jul: '07', Aug: '08', Sep: '09', Oct: '10', Nov: '11', Dec: '12' };

/** "[03 Oct 2023] DSA-5514-1 glibc - security update" -> 2023-10-03T00:00:00Z */
function advisoryDate(headerLine: string): string | undefined {
  const m = /^\[(\d{2}) (\w{3}) (\d{4})\]/.exec(headerLine);
  return m ? `${m[3]}-${MONTHS[m[2]!]}-${m[1]}T00:00:00Z` : undefined;
}

type Events = Array<{ introduced: string } | { fixed: string }>;

/** The events for one package in one release, or undefined when that release is not affected. */
function eventsFor(annotations: Annotation[], pkg: string, release: string): { events: Events; line: string } | undefined {
  const forPkg = annotations.filter((a) => a.Type === 'package' && a.Package === pkg);
  const line = forPkg.find((a) => a.Release === release) ?? forPkg.find((a) => a.Release === undefined);
  if (!line) return undefined;
  if (line.Kind === 'fixed' && line.Version) {
    // "fixed 0" is how the tracker says a release never had the vulnerable code.
    if (line.Version === '0') return undefined;
    return { events: [{ introduced: '0' }, { fixed: line.Version }], line: line.Original };
  }
  if (line.Kind && OPEN_KINDS.has(line.Kind)) return { events: [{ introduced: '0' }], line: line.Original };
  return undefined; // not-affected and anything unknown
}

export function convert(entry: TrackerEntry, cveModified: string): Record<string, unknown> {
  const id = entry.Header.ID;
  const isCve = id.startsWith('CVE-');
  const packages = [...new Set(entry.Annotations.filter((a) => a.Type === 'package' && a.Package).map((a) => a.Package!))];
  const affected: Array<Record<string, unknown>> = [];
  for (const pkg of packages) {
    for (const [release, ecosystem] of Object.entries(RELEASES)) {
      // An advisory (DSA/DLA) speaks only for the releases it names.
      if (!isCve && !entry.Annotations.some((a) => a.Package === pkg && a.Release === release)) continue;
      const found = eventsFor(entry.Annotations, pkg, release);
      if (!found) continue;
      affected.push({
        package: { name: pkg, ecosystem, purl: `pkg:deb/debian/${pkg}?arch=source` },
        ranges: [{ type: 'ECOSYSTEM', events: found.events }],
        database_specific: { tracker_line: found.line },
      });
    }
  }
  const cves = entry.Annotations.filter((a) => a.Type === 'xref').flatMap((a) => a.Bugs ?? []).filter((b) => /^CVE-/.test(b));
  const date = isCve ? cveModified : advisoryDate(entry.Header.Original) ?? cveModified;
  const description = entry.Header.Description.replace(/^\((.*?)( \.\.\.)?\)$/, '$1').replace(/^\[(.*)\]$/, '$1');
  return {
    schema_version: '1.6.0',
    id: isCve ? `DEBIAN-${id}` : id,
    modified: date,
    ...(isCve ? {} : { published: date }),
    aliases: isCve ? [] : cves,
    ...(isCve ? { upstream: [id] } : {}),
    summary: description,
    details: entry.Header.Original,
    affected,
    references: [{ type: 'ADVISORY', url: `https://security-tracker.debian.org/tracker/${id}` }],
  };
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith('debian-tracker-to-osv.ts')) {
  const [outDir, cveModified, ...files] = process.argv.slice(2);
  if (!outDir || !cveModified || files.length === 0) {
    console.error('usage: debian-tracker-to-osv.ts <out-dir> <modified date> <tracker json>...');
    process.exit(2);
  }
  for (const file of files) {
    const record = convert(JSON.parse(readFileSync(file, 'utf8')) as TrackerEntry, cveModified);
    const out = path.join(outDir, `${record.id as string}.json`);
    writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
    console.log(`${file} -> ${out}`);
  }
}
