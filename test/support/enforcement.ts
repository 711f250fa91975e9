import type { AppliedPolicy, PolicySource } from '../../src/enforcement/evaluate.js';
import { parsePolicy, type PolicyScope } from '../../src/enforcement/policy.js';
import type { ImageFacts, ImageReport, ResolvedImage, SignatureChecker, SignatureVerdict } from '../../src/enforcement/ports.js';

/** In-memory implementations of the enforcement ports, for the unit suites. */

export const HOST = 'registry.example.com';
export const digestOf = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

export class MemoryPolicies implements PolicySource {
  readonly policies: Array<AppliedPolicy & { accountId: number | null }> = [];

  set(scope: PolicyScope, target: string, policy: unknown, accountId: number | null = scope === 'cluster' ? null : 1): this {
    this.policies.push({ scope, target, policy: parsePolicy(policy, scope), accountId });
    return this;
  }

  async forRepository(accountId: number, repository: string): Promise<AppliedPolicy | undefined> {
    const mine = this.policies.filter((p) => p.accountId === accountId);
    return mine.find((p) => p.scope === 'repository' && p.target === repository)
      ?? mine.find((p) => p.scope === 'namespace' && p.target === repository.split('/')[0])
      ?? mine.find((p) => p.scope === 'account')
      ?? this.cluster();
  }

  async cluster(): Promise<AppliedPolicy | undefined> {
    return this.policies.find((p) => p.scope === 'cluster');
  }
}

/** Images by `repository:tag` and `repository@digest`; reports by digest. */
export class MemoryFacts implements ImageFacts {
  readonly images = new Map<string, ResolvedImage>();
  readonly reports = new Map<string, ImageReport>();
  resolveDelayMs = 0;

  add(repository: string, tag: string, digest: string, report: ImageReport = { status: 'No Issues', scannedAt: new Date().toISOString(), issues: [] }, platforms: string[] = []): this {
    this.images.set(`${repository}:${tag}`, { digest, platforms });
    this.images.set(`${repository}@${digest}`, { digest, platforms });
    this.reports.set(digest, report);
    return this;
  }

  async resolve(repository: string, reference: { tag?: string; digest?: string }): Promise<ResolvedImage | undefined> {
    if (this.resolveDelayMs > 0) await new Promise((r) => setTimeout(r, this.resolveDelayMs));
    return this.images.get(reference.digest ? `${repository}@${reference.digest}` : `${repository}:${reference.tag}`);
  }

  async report(_repository: string, digest: string): Promise<ImageReport> {
    return this.reports.get(digest) ?? { status: 'Not scanned', scannedAt: null, issues: [] };
  }
}

export class MemorySignatures implements SignatureChecker {
  readonly verdictsByDigest = new Map<string, SignatureVerdict[]>();
  readonly asked: Array<{ accountId: number; repository: string; digest: string }> = [];

  async verdicts(accountId: number, repository: string, digest: string): Promise<SignatureVerdict[]> {
    this.asked.push({ accountId, repository, digest });
    return this.verdictsByDigest.get(digest) ?? [];
  }
}
