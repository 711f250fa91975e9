import type { DetectedPackage } from './types.js';

/**
 * One npm package from a `node_modules/<name>/package.json` (or `node_modules/@scope/name/`).
 * Returns undefined for a file that is not a package manifest (no name or version): node_modules
 * also holds nested package.json files of test fixtures and the like.
 */
export function parseNpmPackageJson(content: string | Buffer): DetectedPackage | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(content.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const { name, version } = doc as { name?: unknown; version?: unknown };
  if (typeof name !== 'string' || typeof version !== 'string' || name === '' || version === '') return undefined;
  return { type: 'npm', name, version };
}

/** Whether a path is a package's own manifest inside node_modules, the only ones that describe installed packages. */
export function isNodeModulesManifest(path: string): boolean {
  return /(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(path);
}
