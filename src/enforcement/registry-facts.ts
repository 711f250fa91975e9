import type { Kysely } from 'kysely';
import type { Authorizer } from '../iam/authorizer.js';
import type { Principal } from '../iam/principal.js';
import type { Database } from '../metadata/schema.js';
import { findManifestByDigest, findManifestByTag } from '../metadata/manifests.js';
import { parseManifest } from '../oci/manifest.js';
import { isIndexMediaType } from '../oci/media-types.js';
import type { ScanService } from '../scanner/scan-service.js';
import type { ImageFacts, ImageReport, ResolvedImage, Severity } from './ports.js';

/**
 * The registry as one principal sees it: what it cannot pull does not exist, and reports carry its
 * account's exemptions. The webhook builds one per request, for the cluster's service ID.
 */
export class RegistryFacts implements ImageFacts {
  /** Access by repository: one review often names several images of one repository. */
  private readonly pulls = new Map<string, Promise<boolean>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly authorizer: Authorizer,
    private readonly scanner: ScanService,
    private readonly principal: Principal,
  ) {}

  async resolve(repository: string, reference: { tag?: string; digest?: string }): Promise<ResolvedImage | undefined> {
    let pull = this.pulls.get(repository);
    if (!pull) this.pulls.set(repository, pull = this.authorizer.repositoryAccess(this.principal, repository).then((a) => a.actions.has('pull')));
    if (!(await pull)) return undefined;
    const manifest = reference.digest
      ? await findManifestByDigest(this.db, repository, reference.digest)
      : await findManifestByTag(this.db, repository, reference.tag ?? 'latest');
    if (!manifest) return undefined;
    if (!isIndexMediaType(manifest.media_type)) return { digest: manifest.digest, platforms: [] };
    // The platforms a node may pull; buildx attestations (platform unknown/unknown) run nowhere.
    const platforms = parseManifest(manifest.content, manifest.media_type).manifests
      .filter((m) => m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest' && (m.platform as { os?: string } | undefined)?.os !== 'unknown')
      .map((m) => m.digest);
    return { digest: manifest.digest, platforms };
  }

  async report(repository: string, digest: string): Promise<ImageReport> {
    const accountId = this.principal.kind === 'anonymous' ? null : this.principal.accountId;
    const view = await this.scanner.report(repository, digest, accountId);
    return {
      status: view.status,
      scannedAt: view.scannedAt,
      issues: [
        ...view.vulnerabilities.map((v) => ({ id: v.cves[0] ?? v.advisoryId, severity: v.severity as Severity, exempt: v.exempt, what: `${v.installedPackage} ${v.installedVersion}` })),
        ...view.configurationIssues.map((c) => ({ id: c.checkId, severity: c.severity as Severity, exempt: c.exempt, what: c.title })),
      ],
    };
  }
}
