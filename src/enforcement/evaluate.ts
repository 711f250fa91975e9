import { describeScope, hostMatches, repositoryMatches, severityRank, type ImagePolicy, type PolicyScope } from './policy.js';
import { ImageReferenceError, parseWorkloadImage, pinnedReference, type WorkloadImage } from './image-reference.js';
import type { ImageFacts, ImageReport, SignatureChecker, SignatureVerdict } from './ports.js';

/** The rule a denial names; `policy` and `image` are the preconditions of every other rule. */
export type RuleName = 'reference' | 'policy' | 'registries' | 'namespaces' | 'image' | 'requireDigest' | 'signedBy' | 'vulnerabilities';

export interface RuleFailure {
  rule: RuleName;
  /** What is wrong and what to do next, in a developer's words. */
  message: string;
}

/** A policy as stored, with where it applies. */
export interface AppliedPolicy {
  scope: PolicyScope;
  /** `''` for the cluster and the account, the namespace or the repository name otherwise. */
  target: string;
  policy: ImagePolicy;
}

/** Where policies come from: the most specific one for a repository of an account, and the cluster default. */
export interface PolicySource {
  /** Repository, then namespace, then account policy of the account, else the cluster-wide default. */
  forRepository(accountId: number, repository: string): Promise<AppliedPolicy | undefined>;
  cluster(): Promise<AppliedPolicy | undefined>;
}

export interface ImageDecision {
  image: string;
  allowed: boolean;
  /** The policy that decided (none applied: undefined, and the image is denied). */
  policy?: { scope: PolicyScope; target: string };
  /** The digest the image resolved to, for images of this registry. */
  digest?: string;
  /** The reference pinned to that digest, when the image named a tag of this registry and is admitted. */
  pinned?: string;
  failures: RuleFailure[];
}

export interface EvaluationOptions {
  /** The account of the principal the evaluation runs as: its policies, keys and exemptions apply. */
  accountId: number;
  /** Hosts this registry is reached at (lower-case, with the port when not the default). */
  registryHosts: ReadonlySet<string>;
  /**
   * True in the mutating webhook: a tag of this registry is about to be pinned to its digest, so
   * requireDigest holds for it. The validating webhook sees the pinned reference afterwards.
   */
  pinning: boolean;
}

export interface EvaluatorPorts {
  policies: PolicySource;
  facts: ImageFacts;
  signatures: SignatureChecker;
  now: () => number;
}

const DAY_MS = 86_400_000;

/**
 * Decides whether an image may run: every rule of the one policy that applies is checked and every
 * failure reported, so a developer fixes all of them in one round.
 */
export class PolicyEvaluator {
  constructor(private readonly ports: EvaluatorPorts) {}

  async evaluate(text: string, options: EvaluationOptions): Promise<ImageDecision> {
    let image: WorkloadImage;
    try {
      image = parseWorkloadImage(text);
    } catch (err) {
      if (err instanceof ImageReferenceError) return deny(text, undefined, [{ rule: 'reference', message: `${err.message}; fix the image field` }]);
      throw err;
    }
    if (!options.registryHosts.has(image.host)) return this.foreign(text, image);
    return this.own(text, image, options);
  }

  /** An image of another registry: admitted when the cluster-wide default lists its host. */
  private async foreign(text: string, image: WorkloadImage): Promise<ImageDecision> {
    const applied = await this.ports.policies.cluster();
    const source = applied && { scope: applied.scope, target: applied.target };
    const failures: RuleFailure[] = [];
    if (!applied?.policy.registries?.some((p) => hostMatches(p, image.host))) {
      failures.push({
        rule: 'registries',
        message: `images from ${image.host} are not allowed: push the image to this registry, or ask the registry operator to allow the host (wharf policy set --cluster --allow-registry ${image.host})`,
      });
    } else if (applied.policy.requireDigest && !image.digest) {
      failures.push({ rule: 'requireDigest', message: `images must be named by digest: write ${image.host}/${image.repository}@sha256:<digest> (skopeo inspect shows it)` });
    }
    return failures.length > 0 ? deny(text, source, failures) : { image: text, allowed: true, ...(source ? { policy: source } : {}), failures };
  }

  private async own(text: string, image: WorkloadImage, options: EvaluationOptions): Promise<ImageDecision> {
    const applied = await this.ports.policies.forRepository(options.accountId, image.repository);
    if (!applied) {
      return deny(text, undefined, [{
        rule: 'policy',
        message: `no image policy applies to ${image.repository}, and images are denied without one: a Manager sets one (wharf policy set --namespace ${image.repository.split('/')[0]})`,
      }]);
    }
    const { policy } = applied;
    const source = { scope: applied.scope, target: applied.target };
    const failures: RuleFailure[] = [];
    if (policy.namespaces && !policy.namespaces.some((p) => repositoryMatches(p, image.repository))) {
      failures.push({ rule: 'namespaces', message: `repository ${image.repository} is not among the allowed ${policy.namespaces.join(', ')}: use an image from one of them` });
    }
    // Kubernetes pulls by the digest when both are given, so the digest is what is judged.
    const resolved = await this.ports.facts.resolve(image.repository, image.digest ? { digest: image.digest } : { tag: image.tag! });
    if (!resolved) {
      failures.push({
        rule: 'image',
        message: `${image.digest ? `${image.repository}@${image.digest}` : `${image.repository}:${image.tag}`} is not in this registry, or the cluster's service ID may not read it: push it, or give the service ID the Reader role on namespace ${image.repository.split('/')[0]}`,
      });
      return deny(text, source, failures);
    }
    if (policy.requireDigest && !image.digest && !options.pinning) {
      failures.push({ rule: 'requireDigest', message: `images must be named by digest: write ${image.host}/${image.repository}@${resolved.digest}` });
    }
    if (policy.signedBy) {
      const failure = checkSignatures(policy.signedBy, await this.ports.signatures.verdicts(options.accountId, image.repository, resolved.digest));
      if (failure) failures.push(failure);
    }
    if (policy.vulnerabilities) {
      const digests = resolved.platforms.length > 0 ? resolved.platforms : [resolved.digest];
      for (const digest of digests) {
        const failure = checkReport(policy.vulnerabilities, await this.ports.facts.report(image.repository, digest), resolved.platforms.length > 0 ? `platform image ${digest}` : 'the image', this.ports.now());
        if (failure) {
          failures.push(failure);
          break;
        }
      }
    }
    if (failures.length > 0) return { ...deny(text, source, failures), digest: resolved.digest };
    return { image: text, allowed: true, policy: source, digest: resolved.digest, ...(image.digest ? {} : { pinned: pinnedReference(image, resolved.digest) }), failures };
  }
}

function deny(image: string, policy: ImageDecision['policy'], failures: RuleFailure[]): ImageDecision {
  return { image, allowed: false, ...(policy ? { policy } : {}), failures };
}

function checkSignatures(keys: string[], verdicts: SignatureVerdict[]): RuleFailure | undefined {
  if (verdicts.some((v) => v.verified && v.key !== null && keys.includes(v.key))) return undefined;
  const wanted = keys.length === 1 ? `key ${keys[0]}` : `one of the keys ${keys.join(', ')}`;
  const found = verdicts.length === 0
    ? 'the image has no signature'
    : `its ${verdicts.length === 1 ? 'signature' : `${verdicts.length} signatures`}: ${verdicts.slice(0, 3).map(describeVerdict).join('; ')}`;
  return { rule: 'signedBy', message: `no signature verifies with ${wanted} (${found}): sign the image with ${wanted} (skopeo copy --sign-by, cosign sign) and deploy again` };
}

function describeVerdict(v: SignatureVerdict): string {
  if (v.verified) return `${v.format} signature by key ${v.key ?? 'unknown'}${v.signer ? ` (${v.signer})` : ''}, which this policy does not name`;
  return `${v.format} signature that does not verify${v.reason ? ` (${v.reason})` : ''}`;
}

function checkReport(rule: NonNullable<ImagePolicy['vulnerabilities']>, report: ImageReport, what: string, now: number): RuleFailure | undefined {
  const fail = (message: string): RuleFailure => ({ rule: 'vulnerabilities', message });
  switch (report.status) {
    case 'Not scanned':
    case 'Scanning':
      return fail(`${what} has not been scanned by the Vulnerability Advisor yet: wait for the scan (wharf va <image>) and deploy again`);
    case 'Scan failed':
      return fail(`the Vulnerability Advisor could not scan ${what}: see wharf va <image> for why, and push a scannable image`);
    case 'Not scannable':
      return fail(`${what} is an artifact, not a container image, and has no Vulnerability Advisor status`);
    case 'Unsupported OS':
      if (!rule.allowUnsupportedOs) return fail(`the Vulnerability Advisor does not cover the OS of ${what}, so its vulnerabilities are unknown: use a supported base image, or allow unsupported OSes in the policy (vulnerabilities.allowUnsupportedOs)`);
  }
  if (rule.maxScanAgeDays !== undefined && report.scannedAt) {
    const ageDays = Math.floor((now - Date.parse(report.scannedAt)) / DAY_MS);
    if (ageDays > rule.maxScanAgeDays) {
      return fail(`${what} was last scanned ${ageDays} days ago; the policy wants a scan at most ${rule.maxScanAgeDays} days old: have it scanned again (importing new advisory data with wharf vulndb import rescans every image)`);
    }
  }
  const limit = severityRank(rule.maxSeverity);
  const over = report.issues.filter((i) => !i.exempt && severityRank(i.severity) > limit);
  if (over.length === 0) return undefined;
  const listed = over.slice(0, 3).map((i) => `${i.id} (${i.severity.toLowerCase()}, ${i.what})`).join(', ');
  const allowed = rule.maxSeverity === 'NONE' ? 'no open issue' : `no open issue above ${rule.maxSeverity.toLowerCase()}`;
  return fail(`${what} has ${over.length} open ${over.length === 1 ? 'issue' : 'issues'} where the policy allows ${allowed}: ${listed}${over.length > 3 ? ', …' : ''}; fix them (wharf va <image> lists the fixes) or have a Manager exempt them (wharf exemption add)`);
}

/** One line for a denied image, as the webhook and `wharf policy check` say it. */
export function describeDenial(decision: ImageDecision): string {
  const by = decision.policy ? ` by ${describeScope(decision.policy.scope, decision.policy.target)}` : '';
  return `image ${decision.image} is denied${by}: ${decision.failures.map((f) => `[${f.rule}] ${f.message}`).join('; ')}`;
}
