import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Iam } from '../../iam/iam.js';
import { AuthenticationError } from '../../iam/authenticator.js';
import { principalLabel, type AuthenticatedPrincipal } from '../../iam/principal.js';
import { parseApiKey } from '../../iam/secrets.js';
import type { ScanService } from '../../scanner/scan-service.js';
import { admissionResponse, AdmissionReviewError, parseAdmissionReview, type AdmissionRequest } from '../../enforcement/admission-review.js';
import { decideAdmission, describeContainerDenial, type AdmissionOutcome } from '../../enforcement/admission.js';
import type { Enforcement } from '../../enforcement/enforcement.js';
import { PolicyEvaluator } from '../../enforcement/evaluate.js';
import { RegistryFacts } from '../../enforcement/registry-facts.js';
import { parseWorkloadImage } from '../../enforcement/image-reference.js';
import { readCredentials } from '../auth/credentials.js';

export interface AdmissionOptions {
  iam: Iam;
  scanner: ScanService;
  enforcement: Enforcement;
  now: () => number;
  /** Told of each denied image of this registry (the webhooks' policy.denied event); never fails the review. */
  onDenial?: (denial: PolicyDenial) => Promise<void>;
}

export interface PolicyDenial {
  repository: string;
  digest?: string;
  tag?: string;
  policy: string;
  reason: string;
  actor: string;
  addr: string;
}

/** A Kubernetes pod spec is at most what etcd stores (1.5 MiB); the review holds it and the old object. */
const REVIEW_BODY_LIMIT = 4 * 1024 * 1024;

/** The webhook's own refusals (not a policy's): answered with a status other than 200, so the API server applies failurePolicy. */
class AdmissionHttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * The Kubernetes admission webhook: POST /admission/validate and /admission/mutate take an
 * AdmissionReview v1 and answer one with the same uid. The API server authenticates with a service
 * ID's API key from its admission kubeconfig (Basic `iamapikey:<key>`, or the key as a bearer token),
 * and the policy is evaluated with that service ID's rights and its account's policies.
 */
export async function admissionPlugin(app: FastifyInstance, options: AdmissionOptions): Promise<void> {
  app.setErrorHandler(async (error: unknown, request, reply) => {
    let status: number;
    let message: string;
    if (error instanceof AdmissionHttpError) ({ status, message } = error);
    else if ((error as { statusCode?: number }).statusCode === 413) [status, message] = [413, `the AdmissionReview is larger than the ${REVIEW_BODY_LIMIT} bytes Wharf reads`];
    else if ((error as { statusCode?: number }).statusCode === 400 || (error as { statusCode?: number }).statusCode === 415) [status, message] = [400, `the body is not an AdmissionReview in JSON: ${(error as Error).message}`];
    else {
      request.log.error({ err: error }, 'admission review failed');
      [status, message] = [500, 'the admission review could not be completed; the error is in the registry\'s log'];
    }
    if (status === 401) reply.header('WWW-Authenticate', 'Basic realm="wharf admission"');
    await reply.code(status).send({ message });
  });

  for (const mode of ['validate', 'mutate'] as const) {
    app.post(`/admission/${mode}`, { bodyLimit: REVIEW_BODY_LIMIT, schema: { hide: true } }, async (request) => {
      const principal = await authenticate(request, options.iam);
      let review: AdmissionRequest;
      try {
        review = parseAdmissionReview(request.body);
      } catch (err) {
        if (err instanceof AdmissionReviewError) throw new AdmissionHttpError(400, err.message);
        throw err;
      }
      const evaluator = new PolicyEvaluator({
        policies: options.enforcement.policies,
        facts: new RegistryFacts(options.iam.db, options.iam.authorizer, options.scanner, principal),
        signatures: options.enforcement.signatures,
        now: options.now,
      });
      const outcome = await decideAdmission(review, evaluator, {
        accountId: principal.accountId, registryHosts: options.enforcement.registryHosts(request.host), pinning: mode === 'mutate',
      }, options.enforcement.settings);
      if (outcome.error) request.log.error({ err: outcome.error, uid: review.uid }, 'the image policy could not be evaluated');
      else if (outcome.warnings.length > 0) request.log.warn({ uid: review.uid, warnings: outcome.warnings }, 'admitted without a decision');
      recordDenials(options.iam, principal, request, review, outcome);
      if (!review.dryRun && options.onDenial) announceDenials(options.onDenial, principal, request, outcome, options.enforcement.registryHosts(request.host));
      return admissionResponse(review.uid, { allowed: outcome.allowed, ...(outcome.message ? { message: outcome.message } : {}), patch: outcome.patch, warnings: outcome.warnings });
    });
  }
}

async function authenticate(request: FastifyRequest, iam: Iam): Promise<AuthenticatedPrincipal> {
  if (!iam.enabled) throw new AdmissionHttpError(503, 'deployment enforcement needs authentication (auth.enabled): the policy is evaluated with the rights of the cluster\'s service ID');
  const credentials = readCredentials(request);
  const refuse = (why: string) => new AdmissionHttpError(401, `${why}: give the API server a service ID's API key in its admission kubeconfig (see "Deployment enforcement" in the README)`);
  try {
    if (credentials.scheme === 'basic') return await iam.authenticator.basic(credentials.username, credentials.password, request.ip);
    if (credentials.scheme === 'bearer') {
      // A kubeconfig `token:` holds the API key itself; a token from /auth/token works too.
      if (parseApiKey(credentials.token)) return await iam.authenticator.basic('iamapikey', credentials.token, request.ip);
      const verified = await iam.authenticator.bearer(credentials.token);
      if (verified && verified.principal.kind !== 'anonymous') return verified.principal;
      throw refuse('the bearer token is invalid or expired');
    }
  } catch (err) {
    if (err instanceof AuthenticationError) throw refuse(err.message);
    throw err;
  }
  throw refuse('the admission webhook needs credentials');
}

/** Denied images of this registry become policy.denied events of their repository; other registries' images have no repository here. */
function announceDenials(onDenial: (denial: PolicyDenial) => Promise<void>, principal: AuthenticatedPrincipal, request: FastifyRequest, outcome: AdmissionOutcome, registryHosts: ReadonlySet<string>): void {
  for (const { decision } of outcome.denials) {
    let image;
    try {
      image = parseWorkloadImage(decision.image);
    } catch {
      continue;
    }
    if (!registryHosts.has(image.host)) continue;
    const policy = decision.policy ? `${decision.policy.scope} ${decision.policy.target}` : 'none (no policy applies: denied by default)';
    const denial: PolicyDenial = {
      repository: image.repository, policy, reason: decision.failures.map((f) => f.message).join('; ') || 'no policy applies', actor: principalLabel(principal), addr: request.ip,
      ...(decision.digest ?? image.digest ? { digest: decision.digest ?? image.digest } : {}), ...(image.tag ? { tag: image.tag } : {}),
    };
    onDenial(denial).catch((err: unknown) => request.log.error({ err, repository: denial.repository }, 'could not record a policy.denied event'));
  }
}

/**
 * Denials go to the audit log as `image-policy.deny`. A dry run (kubectl --dry-run=server) writes
 * nothing: the webhook configurations declare sideEffects NoneOnDryRun, so it is logged only.
 */
function recordDenials(iam: Iam, principal: AuthenticatedPrincipal, request: FastifyRequest, review: AdmissionRequest, outcome: AdmissionOutcome): void {
  if (review.dryRun) {
    if (!outcome.allowed) request.log.info({ uid: review.uid, message: outcome.message }, 'image policy denial (dry run, not audited)');
    return;
  }
  const workload = `${review.kind.kind} ${review.namespace ? `${review.namespace}/` : ''}${review.name ?? '(generated name)'}`;
  if (!outcome.allowed && outcome.denials.length === 0) {
    iam.audit.record({ accountId: principal.accountId, actor: principal, action: 'image-policy.deny', resource: workload.slice(0, 500), outcome: 'deny', source: request.ip, detail: { uid: review.uid, operation: review.operation, reason: outcome.message } });
  }
  for (const denial of outcome.denials) {
    iam.audit.record({
      accountId: principal.accountId, actor: principal, action: 'image-policy.deny', resource: `${workload}, container ${denial.container.container}`.slice(0, 500), outcome: 'deny', source: request.ip,
      detail: { uid: review.uid, operation: review.operation, image: denial.decision.image, policy: denial.decision.policy ?? null, failures: denial.decision.failures, message: describeContainerDenial(denial) },
    });
  }
}
