import type { DetectedPackage } from './types.js';

/**
 * One Python distribution from `*.dist-info/METADATA` (core metadata, RFC 822 headers up to the
 * first blank line; the body is the long description and is ignored).
 */
export function parsePythonMetadata(content: string | Buffer): DetectedPackage | undefined {
  let name: string | undefined;
  let version: string | undefined;
  for (const line of content.toString('utf8').split(/\r?\n/)) {
    if (line.trim() === '') break;
    const m = /^(Name|Version):\s*(.*?)\s*$/i.exec(line);
    if (!m) continue;
    if (m[1]!.toLowerCase() === 'name') name ??= m[2];
    else version ??= m[2];
  }
  return name && version ? { type: 'pypi', name, version } : undefined;
}

/** PEP 503 normalised project name, the form advisory databases match on (PyYAML -> pyyaml, zope.interface -> zope-interface). */
export function normalizePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}
