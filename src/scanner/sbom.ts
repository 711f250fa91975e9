import { randomUUID } from 'node:crypto';
import type { OsRelease } from './detectors/os-release.js';
import { normalizePythonName } from './detectors/python.js';
import type { DetectedPackage } from './detectors/types.js';

/**
 * A CycloneDX 1.5 JSON SBOM of what the scanner found in one image: the OS as an
 * operating-system component, every package as a library with its package URL (purl spec,
 * github.com/package-url/purl-spec), and the file it was found in as an occurrence.
 */

export interface SbomInput {
  /** Digest of the image manifest (one platform). */
  imageDigest: string;
  /** Repository name, shown as the image component's name. */
  imageName?: string;
  os?: OsRelease;
  packages: ReadonlyArray<DetectedPackage & { location?: string }>;
  /** For reproducible output in tests; default now and a random serial. */
  timestamp?: Date;
  serialNumber?: string;
  toolVersion?: string;
}

export interface CycloneDxComponent {
  type: 'library' | 'operating-system' | 'container' | 'application';
  'bom-ref': string;
  name: string;
  version?: string;
  purl?: string;
  properties?: Array<{ name: string; value: string }>;
  evidence?: { occurrences: Array<{ location: string }> };
}

export interface CycloneDxBom {
  bomFormat: 'CycloneDX';
  specVersion: '1.5';
  serialNumber: string;
  version: 1;
  metadata: {
    timestamp: string;
    tools: { components: CycloneDxComponent[] };
    component: CycloneDxComponent;
  };
  components: CycloneDxComponent[];
}

/** Percent-encodes one purl segment; `:` stays as it is in versions (an epoch, 1:1.2.13). */
function enc(s: string, keepColon = false): string {
  const e = encodeURIComponent(s);
  return keepColon ? e.replace(/%3A/gi, ':') : e;
}

function qualifiers(q: Record<string, string | undefined>): string {
  const parts = Object.entries(q)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${enc(v)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** The purl of a detected package, or undefined when its type needs an OS the image does not name. */
export function packageUrl(pkg: DetectedPackage, os?: OsRelease): string | undefined {
  const version = enc(pkg.version, true);
  switch (pkg.type) {
    case 'deb':
    case 'apk':
    case 'rpm': {
      const vendor = os?.id ?? (pkg.type === 'apk' ? 'alpine' : pkg.type === 'deb' ? 'debian' : undefined);
      if (!vendor) return undefined;
      const distro = os?.versionId ? `${vendor}-${os.versionId}` : undefined;
      const upstream = pkg.sourceName && pkg.sourceName !== pkg.name ? pkg.sourceName : undefined;
      return `pkg:${pkg.type}/${enc(vendor)}/${enc(pkg.name)}@${version}${qualifiers({ arch: pkg.arch, distro, upstream })}`;
    }
    case 'npm': {
      const m = /^(@[^/]+)\/(.+)$/.exec(pkg.name);
      return m ? `pkg:npm/${enc(m[1]!)}/${enc(m[2]!)}@${version}` : `pkg:npm/${enc(pkg.name)}@${version}`;
    }
    case 'pypi':
      return `pkg:pypi/${enc(normalizePythonName(pkg.name))}@${version}`;
    case 'go': {
      const v = pkg.name === 'stdlib' ? pkg.version.replace(/^go/, 'v') : pkg.version;
      return `pkg:golang/${pkg.name.split('/').map((s) => enc(s)).join('/')}@${enc(v, true)}`;
    }
    case 'maven': {
      const [group, artifact] = pkg.name.split(':');
      return `pkg:maven/${enc(group ?? '')}/${enc(artifact ?? '')}@${version}`;
    }
    case 'gem':
      return `pkg:gem/${enc(pkg.name)}@${version}`;
  }
}

export function cycloneDx(input: SbomInput): CycloneDxBom {
  const components: CycloneDxComponent[] = [];
  const refs = new Set<string>();
  if (input.os) {
    const os: CycloneDxComponent = { type: 'operating-system', 'bom-ref': `os:${input.os.id}@${input.os.versionId ?? ''}`, name: input.os.id };
    if (input.os.versionId) os.version = input.os.versionId;
    if (input.os.prettyName) os.properties = [{ name: 'wharf:os:prettyName', value: input.os.prettyName }];
    components.push(os);
    refs.add(os['bom-ref']);
  }
  const byRef = new Map<string, CycloneDxComponent>();
  for (const pkg of input.packages) {
    const purl = packageUrl(pkg, input.os);
    const ref = purl ?? `${pkg.type}:${pkg.name}@${pkg.version}`;
    const seen = byRef.get(ref);
    if (seen) {
      if (pkg.location && !seen.evidence!.occurrences.some((o) => o.location === pkg.location)) seen.evidence!.occurrences.push({ location: pkg.location });
      continue;
    }
    const c: CycloneDxComponent = { type: 'library', 'bom-ref': ref, name: pkg.name, version: pkg.version };
    if (purl) c.purl = purl;
    const props: Array<{ name: string; value: string }> = [{ name: 'wharf:package:type', value: pkg.type }];
    if (pkg.sourceName && pkg.sourceName !== pkg.name) props.push({ name: 'wharf:package:sourceName', value: pkg.sourceName });
    if (pkg.sourceVersion && pkg.sourceVersion !== pkg.version) props.push({ name: 'wharf:package:sourceVersion', value: pkg.sourceVersion });
    c.properties = props;
    c.evidence = { occurrences: pkg.location ? [{ location: pkg.location }] : [] };
    byRef.set(ref, c);
    components.push(c);
  }
  for (const c of components) if (c.evidence && c.evidence.occurrences.length === 0) delete c.evidence;
  const image: CycloneDxComponent = {
    type: 'container',
    'bom-ref': input.imageDigest,
    name: input.imageName ?? input.imageDigest,
    version: input.imageDigest,
  };
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: input.serialNumber ?? `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: (input.timestamp ?? new Date()).toISOString(),
      tools: { components: [{ type: 'application', 'bom-ref': 'wharf', name: 'wharf', ...(input.toolVersion ? { version: input.toolVersion } : {}) }] },
      component: image,
    },
    components,
  };
}
