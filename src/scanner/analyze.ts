import { parseApkInstalled } from './detectors/apk.js';
import { parseDpkgStatus } from './detectors/dpkg.js';
import { parseGemspec } from './detectors/gem.js';
import { mavenPackagesInArchive, parsePomProperties } from './detectors/maven.js';
import type { GoBuildInfo } from './detectors/go-buildinfo.js';
import { parseNpmPackageJson } from './detectors/npm.js';
import { parseOsRelease, type OsRelease } from './detectors/os-release.js';
import { parsePythonMetadata } from './detectors/python.js';
import { parseRpmdbSqlite, RpmdbError } from './detectors/rpm.js';
import type { DetectedPackage } from './detectors/types.js';
import { ScanError } from './errors.js';
import { isOsManagedLanguagePackage } from './os-managed.js';
import { runConfigChecks, type ConfigIssue } from './config-checks/index.js';
import { parseImageConfig } from './config-checks/image-config.js';
import { readImageLayers, type GoBinary, type ImageFiles, type ImageLayersInput, type LayerStats } from './image/layers.js';
import { resolveLimits, type ScanLimits } from './image/limits.js';

/**
 * One image platform, analysed: what OS it is, what is installed, and which configuration
 * checks it fails. Vulnerability matching is a separate step (findings.ts) so that an image can
 * be re-matched when the advisory data changes without reading its layers again.
 */

export interface AnalyzeInput extends ImageLayersInput {
  /** The image configuration blob, parsed JSON (config.User, config.Env, history…). */
  config?: unknown;
  limits?: Partial<ScanLimits>;
}

/** A detected package and the file it was found in (a package database, manifest or binary). */
export interface InstalledPackage extends DetectedPackage {
  location: string;
}

export interface ImageAnalysis {
  os: OsRelease | undefined;
  packages: InstalledPackage[];
  goBinaries: GoBinary[];
  configIssues: ConfigIssue[];
  /** Files skipped (over a cap, unreadable build info); the analysis is otherwise complete. */
  warnings: string[];
  stats: LayerStats;
}

/** Go packages of one binary: its modules (replacements applied) and the toolchain as `stdlib`. */
export function goPackages(path: string, info: GoBuildInfo): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  const add = (name: string, version: string): void => {
    // "(devel)" is a main module built from a checkout: there is no version to compare.
    if (name && version && version !== '(devel)') out.push({ type: 'go', name, version, location: path });
  };
  if (info.main) add(info.main.path, info.main.version);
  for (const d of info.deps) {
    const m = d.replace ?? d;
    if (m.version) add(m.path, m.version); // a replacement by a local directory has no version
  }
  add('stdlib', info.goVersion);
  return out;
}

/** Runs the detectors over the files kept from the layers. */
export function detectPackages(files: ImageFiles): { os: OsRelease | undefined; packages: InstalledPackage[] } {
  const etc = files.kept.get('/etc/os-release');
  const usr = files.kept.get('/usr/lib/os-release');
  const os = (etc && parseOsRelease(etc.content)) || (usr && parseOsRelease(usr.content)) || undefined;
  const packages: InstalledPackage[] = [];
  const located = (location: string) => (p: DetectedPackage): InstalledPackage => ({ ...p, location });
  const paths = [...files.kept.keys()].sort();
  for (const path of paths) {
    const f = files.kept.get(path)!;
    switch (f.role) {
      case 'dpkg-status':
        packages.push(...parseDpkgStatus(f.content).map(located(path)));
        break;
      case 'dpkg-status-d':
        packages.push(...parseDpkgStatus(f.content, { statusD: true }).map(located(path)));
        break;
      case 'apk-installed':
        packages.push(...parseApkInstalled(f.content).map(located(path)));
        break;
      case 'rpmdb-sqlite': {
        // Fedora ≥ 36 links /var/lib/rpm to /usr/lib/sysimage/rpm; a hard-linked copy is the same database.
        if (path === '/var/lib/rpm/rpmdb.sqlite' && files.kept.get('/usr/lib/sysimage/rpm/rpmdb.sqlite')?.content.equals(f.content)) break;
        try {
          packages.push(...parseRpmdbSqlite(f.content).map(located(path)));
        } catch (err) {
          if (!(err instanceof RpmdbError)) throw err;
          throw new ScanError('invalid-database', `${path} is not a readable rpm database: ${err.message}`, undefined, path);
        }
        break;
      }
      case 'npm-manifest': {
        const p = parseNpmPackageJson(f.content);
        if (p) packages.push(located(path)(p));
        break;
      }
      case 'python-metadata': {
        const p = parsePythonMetadata(f.content);
        if (p) packages.push(located(path)(p));
        break;
      }
      case 'maven-pom-properties': {
        const p = parsePomProperties(f.content);
        if (p) packages.push(located(path)(p));
        break;
      }
      case 'gemspec': {
        const p = parseGemspec(f.content);
        if (p) packages.push(located(path)(p));
        break;
      }
      default:
        break;
    }
  }
  for (const bin of files.goBinaries) packages.push(...goPackages(bin.path, bin.info));
  const hasDpkgDatabase = packages.some((p) => p.type === 'deb');
  return { os, packages: packages.filter((p) => !isOsManagedLanguagePackage(p, p.location, hasDpkgDatabase)) };
}

/**
 * Maven packages inside the image's Java archives (.jar, .war, .ear, and the jars they carry).
 * One archive's package is not reported twice when its pom.properties also lies exploded on disk.
 */
export async function detectArchivePackages(files: ImageFiles, maxNestedBytes: number): Promise<{ packages: InstalledPackage[]; warnings: string[] }> {
  const packages: InstalledPackage[] = [];
  const warnings: string[] = [];
  for (const path of [...files.kept.keys()].sort()) {
    const f = files.kept.get(path)!;
    if (f.role !== 'java-archive') continue;
    const found = await mavenPackagesInArchive(f.content, maxNestedBytes);
    for (const p of found.packages) packages.push({ type: p.type, name: p.name, version: p.version, location: `${path}!/${p.entry}` });
    if (found.error) warnings.push(`${path} is not a readable Java archive (${found.error}); its packages are not listed`);
  }
  return { packages, warnings };
}

export async function analyzeImage(input: AnalyzeInput): Promise<ImageAnalysis> {
  const files = await readImageLayers(input, input.limits);
  const detected = detectPackages(files);
  const { os } = detected;
  const archives = await detectArchivePackages(files, resolveLimits(input.limits).maxKeptFileBytes);
  const packages = [...detected.packages, ...archives.packages];
  const configIssues = runConfigChecks({
    config: parseImageConfig(input.config),
    files: new Map([...files.kept].map(([p, f]) => [p, f.content])),
    worldWritable: files.worldWritable,
    markers: files.markers,
    packages,
  });
  return { os, packages, goBinaries: files.goBinaries, configIssues, warnings: [...files.warnings, ...archives.warnings], stats: files.stats };
}
