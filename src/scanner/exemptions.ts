import type { Kysely } from 'kysely';
import { ProblemError } from '../errors/problem.js';
import type { Database, ExemptionScope } from '../metadata/schema.js';
import * as exemptions from '../metadata/exemptions.js';
import { findNamespace } from '../metadata/namespaces.js';
import { parseDigest } from '../oci/digest.js';
import { isInForce, type Exemption } from './report.js';

export interface ExemptionInput {
  issueId: string;
  scope: ExemptionScope;
  namespace?: string | null;
  repository?: string | null;
  digest?: string | null;
  reason: string;
  /** ISO 8601; after it the issue counts again. */
  expiresAt?: string | null;
}

const ISSUE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{1,99}$/;

function view(row: Exemption, now: number) {
  return {
    id: row.id, issueId: row.issue_id, scope: row.scope, namespace: row.namespace, repository: row.repository, digest: row.digest,
    reason: row.reason, createdBy: row.created_by, created: new Date(Number(row.created_at)).toISOString(),
    expiresAt: row.expires_at === null || row.expires_at === undefined ? null : new Date(Number(row.expires_at)).toISOString(), expired: !isInForce(row, now),
  };
}

/** The expiry of a new exemption in ms, or null for none; it must be a date still to come. */
function expiryOf(expiresAt: string | null | undefined, now: number): number | null {
  if (expiresAt === undefined || expiresAt === null || expiresAt === '') return null;
  // Date.parse also takes "Nov 30" and the like: only ISO 8601 dates are accepted, as documented.
  const ms = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(expiresAt) ? Date.parse(expiresAt) : NaN;
  if (Number.isNaN(ms)) throw new ProblemError('bad-request', `expiresAt "${expiresAt}" is not an ISO 8601 date (2027-01-31 or 2027-01-31T12:00:00Z)`);
  if (ms <= now) throw new ProblemError('bad-request', `expiresAt ${new Date(ms).toISOString()} has already passed: give a date in the future, or leave it out for an exemption without end`);
  return ms;
}

/** Issues an account accepts: by advisory or check ID, for the account, a namespace, a repository or one image. */
export class ExemptionService {
  constructor(private readonly db: Kysely<Database>, private readonly now: () => number) {}

  /** The exemptions in force: what reports, the image list and enforcement apply. */
  async forAccount(accountId: number): Promise<Exemption[]> {
    const now = this.now();
    return ((await exemptions.listExemptions(this.db, accountId)) as Exemption[]).filter((e) => isInForce(e, now));
  }

  /** Every exemption of the account, expired ones included (marked), so a Manager sees what lapsed. */
  async list(accountId: number) {
    const now = this.now();
    return ((await exemptions.listExemptions(this.db, accountId)) as Exemption[]).map((e) => view(e, now));
  }

  async add(accountId: number, input: ExemptionInput, by: string) {
    if (!ISSUE_ID.test(input.issueId)) throw new ProblemError('bad-request', 'issueId must be an advisory ID (CVE-…, GHSA-…, DSA-…) or a configuration check ID');
    if (input.reason.trim().length === 0) throw new ProblemError('bad-request', 'say why the issue is accepted (reason)');
    const expiresAt = expiryOf(input.expiresAt, this.now());
    const namespace = input.scope === 'account' ? null : input.namespace ?? null;
    const repository = input.scope === 'repository' || input.scope === 'image' ? input.repository ?? null : null;
    const digest = input.scope === 'image' ? input.digest ?? null : null;
    if (input.scope !== 'account') {
      if (!namespace) throw new ProblemError('bad-request', `a ${input.scope} exemption needs its namespace`);
      const row = await findNamespace(this.db, namespace);
      if (!row || row.account_id !== accountId) throw new ProblemError('not-found', `namespace ${namespace} is not one of your account's namespaces`);
    }
    if ((input.scope === 'repository' || input.scope === 'image') && !repository) throw new ProblemError('bad-request', `a ${input.scope} exemption needs the repository (inside the namespace)`);
    if (input.scope === 'image') {
      if (!digest) throw new ProblemError('bad-request', 'an image exemption needs the image digest');
      parseDigest(digest);
    }
    const id = await exemptions.insertExemption(this.db, {
      account_id: accountId, issue_id: input.issueId, scope: input.scope, namespace, repository, digest,
      reason: input.reason.slice(0, 1000), created_by: by, created_at: this.now(), expires_at: expiresAt,
    });
    return view((await exemptions.findExemption(this.db, id)) as Exemption, this.now());
  }

  async remove(accountId: number, id: number): Promise<void> {
    const row = await exemptions.findExemption(this.db, id);
    if (!row || row.account_id !== accountId) throw new ProblemError('not-found', `exemption #${id} is not in your account`);
    await exemptions.deleteExemption(this.db, id);
  }
}
